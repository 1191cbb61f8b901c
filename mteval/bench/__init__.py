"""Benchmarks run by hand (``python -m mteval.bench.<name>``); results go to results/bench/."""
