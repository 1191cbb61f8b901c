"""Unit tests of mteval.hub."""
