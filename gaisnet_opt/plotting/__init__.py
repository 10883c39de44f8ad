"""Figures of plans and rounds, written as files (PNG, SVG, PDF) with matplotlib's Agg backend."""
