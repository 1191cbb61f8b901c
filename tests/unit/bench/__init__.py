"""Unit tests of mteval.bench."""
