"""Scoring: a profile compiled into an ibis plan (pure; no I/O)."""
