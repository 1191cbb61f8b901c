"""Comparing finished runs: paired significance tests, confidence intervals, rank clusters."""
