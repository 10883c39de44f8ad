"""The distributed engine: every chain member and the aggregating edge server is a torch.distributed process.

Processes meet over gloo with a TCP rendezvous, on one machine (spawned by
`launch`, over loopback or an emulated network) or on many (torchrun,
`torchrun.run_from_env`). Rank 0 is the edge server that delivers,
aggregates, evaluates and writes the report; every other node in the plan's
chains is one process (`topology`). Each process runs the in-process engine's
per-member code (`split_chain`, `local_training`, `rounds.serve_request`) for
its own members only; what differs is how tensors cross (`process_link`,
`wire`): smashed data with the batch's labels forward, gradients back, an
inference result home, and, between rank 0 and each member over its server
link, the delivered and the uploaded modules (`engine`, `turns`). The start
point's images never leave its process: its data partition is made nowhere
else.

Every wait has a timeout, which must exceed the wait's share of a turn (the
peers' compute and transfers before the message awaited). Each pair of
processes that exchange messages has a process group of its own
(`Wire.connect`): gloo closes all of a group's connections when one wait in
it times out, so a hung peer costs a process only its links to that peer.
Only a member can be lost: rank 0 is the run. Limits: every process builds
the whole frozen model from the same seed and checkpoint (the unit shapes
and the profile check need it) though it runs only its members' units; a
lost process's meters are those of its last report; fault injection kills or
hangs members during training only.
"""
