"""Exact methods and heuristics that turn a scenario into a plan (SPEC §7)."""
