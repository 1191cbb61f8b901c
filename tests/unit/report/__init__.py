"""Unit tests of mteval.report."""
