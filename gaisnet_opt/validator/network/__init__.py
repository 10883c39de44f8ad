"""An emulated network for the distributed engine: each node in a Linux network namespace, links shaped with tc.

One L2 segment, everything inside the run's namespaces, nothing in the root one:

    ns gn-<run>          the hub: bridge br0 and one port p<i> per node
    ns gn-<run>-<node>   one per node: lo, and eth0 (the veth peer of p<i>), address 10.77.x.y/16

Each node shapes its own egress with HTB: a class per outgoing link of the
scenario at its rate divided by the time scale (matched on the destination
address), and a default class, not scaled, for the pairs the scenario does
not link (the rendezvous, gloo's full mesh at start, control data). A size
table charges TCP payload only and GSO is off, so a transfer of n bytes takes
n·8/rate (measured: messages of 100 kB and more within about 1 %; one of n
bytes about 1350 B/n fast, one packet and the 0.1 ms burst leaving at once).
`namespaces` holds the stdlib-only life cycle (entering, finding and removing
a run's namespaces) that a reaper process loads by path; `emulated` builds
and shapes the network. Needs root and iproute2 (ip, tc).
"""
