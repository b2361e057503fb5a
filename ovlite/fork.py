"""Fork safety: state that owns threads starts afresh in a child process.

After ``os.fork()`` the child has only the thread that forked.  Worker threads, timers and
the watchdog are gone, and a lock another thread held at that moment stays locked for ever.
Objects that own such state register here; in the child, each one's ``_after_fork()`` drops
the parent's threads, queued work and locks, so the child starts threads of its own on its
first job.  Jobs in flight at the fork belong to the parent, which finishes them; in the
child their requests are idle again and report that the inference ran in the parent.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

_objects: weakref.WeakSet[Any] = weakref.WeakSet()


def reset_after_fork(obj: Any) -> None:
    """Call ``obj._after_fork()`` in the child of every later fork, while ``obj`` lives."""
    _objects.add(obj)


def _in_child() -> None:
    for obj in list(_objects):
        obj._after_fork()


os.register_at_fork(after_in_child=_in_child)
