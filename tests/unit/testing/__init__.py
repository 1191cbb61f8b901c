"""Unit tests of mteval.testing."""
