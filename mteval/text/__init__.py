"""Text utilities: script and language checks, Chinese normalisation, sentence splitting."""
