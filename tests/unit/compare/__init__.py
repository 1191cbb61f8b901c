"""Unit tests of mteval.compare."""
