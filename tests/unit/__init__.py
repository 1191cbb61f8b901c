"""Unit tests, one folder per package of mteval/: tables and properties, no neural model."""
