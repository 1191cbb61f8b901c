"""Statistics shared by compare, gate and metrics: resampling, intervals, paired tests, rank clusters, scorers."""
