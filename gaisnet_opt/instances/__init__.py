"""Problem instances: the cost model's figures laid out as the arcs every method optimizes over.

`split_table` (one node's segments and hops, from `gaisnet_opt.cost`),
`split_instance` (one chain and one objective), `candidates` (who may join a
cluster, who may serve it) and `joint_table` (every cluster's arcs at once).
The formulations, the bounds and the solvers all read these; nothing here
knows about a solver.
"""
