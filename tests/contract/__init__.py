"""Contract tests: every config option, every bad setting and input, every model's contract on tiny models."""
