"""Metrics: a small base class, sacrebleu wrappers (BLEU, chrF, chrF++, TER) and COMET."""
