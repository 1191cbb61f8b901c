"""Test helpers: tiny random-weight models that load like the real ones, built offline."""
