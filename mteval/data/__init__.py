"""Corpus loaders, one per format, plus input validation and pairing."""
