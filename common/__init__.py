"""Plumbing every app may use: it imports no project code (the lowest layer in pyproject.toml)."""
