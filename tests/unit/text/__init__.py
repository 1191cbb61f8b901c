"""Unit tests of mteval.text."""
