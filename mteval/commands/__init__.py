"""Entry points: parse arguments, call the library, exit with its status."""
