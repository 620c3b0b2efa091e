"""Plumbing every app may use: it imports no domain code (no app of this project)."""
