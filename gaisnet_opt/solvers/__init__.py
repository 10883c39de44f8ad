"""Exact methods and heuristics that turn a scenario into a plan (docs/model.md §7)."""
