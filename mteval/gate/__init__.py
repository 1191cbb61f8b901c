"""The CI quality gate: compare a run with a committed baseline, per metric, with a paired test."""
