"""The decomposition for city-scale plans with a proven gap (docs/model.md §7.4).

`master` (the packing over clusters, HiGHS), `energy` (column generation,
price-and-branch, enumeration within the gap), `latency` (threshold search),
`decompose` (the entry point, `decompose(scenario, objective, budget=...)`).
"""
