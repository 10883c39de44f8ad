"""Bounds on the joint problem: the relaxation floor (valid for the whole problem) and the arc elimination it allows.

`chain_search` (each start point's exact cheapest clusters, `start_bounds` keeping them),
`floor` (the round's latency and energy floors), `arc_bounds` (the cheapest
chain through each arc of a table) and `pruning` (arcs no optimal plan uses).
"""
