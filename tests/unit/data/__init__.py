"""Unit tests of mteval.data."""
