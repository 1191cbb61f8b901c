"""Unit tests of mteval.commands."""
