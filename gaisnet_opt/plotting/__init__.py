"""Figures of plans, rounds, schedules and validation runs.

Every function draws on an optional matplotlib `Axes` and returns the
`Figure` it drew on (PyVRP's plotting style), so a caller can compose figures;
none forces a backend or touches pyplot's global state. Writing a figure to a
file is `save_figure`'s job (the CLI calls it).
"""
