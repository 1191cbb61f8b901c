"""Unit tests of mteval.metrics."""
