"""Unit tests of mteval.systems."""
