"""Unit tests of mteval.gate."""
