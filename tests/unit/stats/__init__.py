"""Unit tests of mteval.stats."""
