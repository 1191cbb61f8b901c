"""Unit tests of mteval.results."""
