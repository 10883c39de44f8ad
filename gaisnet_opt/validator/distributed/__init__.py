"""The distributed engine: every chain member and the aggregating edge server is a torch.distributed process.

Processes meet over gloo with a TCP rendezvous, so they can run on one machine
or on many. Rank 0 is the edge server that aggregates (and evaluates, serves as
the rendezvous store and writes the report); every other node in the plan's
chains is one process (`Topology`). Each process runs the same code as the
in-process engine (`SplitChain` steps, `fedavg.train_clusters`) for its own
members only; what differs is how tensors cross:

- hops are point-to-point sends and receives (`ProcessLink`): smashed data
  forward, gradients back, the labels from the start point to the end point
  (which takes the loss; the cost model does not price them), an inference
  result home. The start point's images never leave its process: its data
  partition is made nowhere else.
- FedAvg: the holders of same-numbered units and rank 0 form process groups;
  a reduce gathers the sample-weighted tunable modules at rank 0 and a
  broadcast delivers the averaged ones back.
- results: each process's per-cluster status, meters and inference accuracy
  go to rank 0, which tells everyone which clusters are averaged.

Every wait has a timeout. A member whose process dies mid-round is detected by
its neighbours (the connection closes) or by the timeout, one that hangs by the
timeout; its cluster is left out of that round's FedAvg and, its process being
written off, out of every later round, and training goes on. Only a member can
be lost: rank 0 is the run. Each pair of processes that exchange messages has a
process group of its own (`Wire.connect`): gloo closes all of a group's
connections when one wait in it times out, so a hung peer costs a process only
its links to that peer.
A timeout bounds a wait for one message, the peers' compute before it
included, so it must exceed a round's local training.

Limits: every process builds the whole frozen model from the same seed and
checkpoint (the unit shapes and the profile check need it) though it runs
only its members' units; a lost process's meters are those of its last
report; a member lost while serving inference or inside FedAvg ends the run
with an error (fault injection kills or hangs members only during training).

Launching: `launch` spawns the processes on this machine (a fork server that
has imported torch once, a free port on 127.0.0.1 unless told otherwise);
`run_from_env` is one process of a torchrun launch, on one machine or many
(env:// rendezvous; see the package docstring for the command). Rank 0's
node is the edge server; the others follow in plan order (`Topology`).
"""
