"""Optimization models written once as linear rows (`joint_model`, `split_model`, on `rows`) and their translations:
`milp` (Pyomo, solved by HiGHS through `highs`) and `cpsat` (OR-Tools CP-SAT, run by `cpsat_run`)."""
