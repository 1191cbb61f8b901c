"""mteval: machine-translation quality evaluation harness."""
