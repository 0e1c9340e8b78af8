"""Engines that run plans: DuckDB (embedded default)."""
