"""The test suite: unit/ (one package each, no models), contract/ (every option, every model contract), e2e/ (runs)."""
