"""End-to-end runs: the CLI on tiny models, sweeps, resumes, and the acceptance checks on WMT22."""
