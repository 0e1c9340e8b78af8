"""Monitoring: the history of scoring runs, drift between populations, emerging and fading
segments, and the quarterly review."""
