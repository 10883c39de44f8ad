"""A process of a run ends when the process that started it ends, however that one ended.

A launcher killed by SIGKILL runs no cleanup; without this its rank processes
(children of a fork server, or of a torchrun worker) would go on training and
writing checkpoints. Each rank watches its starter's pidfd in a daemon thread.
"""

from __future__ import annotations

import os
import select
import threading

ORPHANED = 76
"""Exit code of a rank process whose starter ended first."""


def die_with(pid: int) -> None:
    """End this process (exit `ORPHANED`) as soon as process `pid` ends (at once if it has already)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(ORPHANED)

    def watch() -> None:
        select.select([fd], [], [])
        os._exit(ORPHANED)

    threading.Thread(target=watch, name=f"lifeline-{pid}", daemon=True).start()
