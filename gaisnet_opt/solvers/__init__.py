"""Exact methods and heuristics that turn a scenario into a plan (docs/model.md §7).

Entry points: `solve` (clusters, chains and splits of a round), `split`
(one chain's split points), `best_effort` (a plan that may leave requests
unserved). Their steps: `precheck`, `service` (the cluster range and
deadline), `evaluator` (chains split by `split_dp` and priced),
`construction` (constructive heuristics), `local_search`, `initial_plan` (a
caller's plan as a start), `exact_table` (the table under the arc cap), and
`finish` (the one exit: checker and cost model). Split heuristics: `split_heuristics`;
reasons: `split_diagnosis`.
"""
