"""Append-only custody log: who did what to which evidence, and when."""
