"""GitHub Actions' concurrency groups, for the fake runner: one running, one pending per group.

A run (workflow-level ``concurrency:``) or a job (job-level) that names a group starts at once if
the group is free. Otherwise it waits as the group's one pending entry; a newer arrival replaces a
pending one, which is then cancelled without running. ``cancel-in-progress: true`` also cancels the
running entry (the runner signals its process). Entries that name no group never wait.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(eq=False)
class Entry:
    """A run or a job in a group."""

    name: str
    #: Replaced while pending (never runs), or cancelled while running by a newer entry.
    cancelled: bool = False


class Groups:
    """Every concurrency group of one fake repository (thread-safe: runs may overlap in threads)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running: dict[str, Entry] = {}
        self._pending: dict[str, Entry] = {}
        #: (group, entry name, what happened) in order: "running", "pending", "replaced", "cancelled".
        self.history: list[tuple[str, str, str]] = []

    def acquire(self, group: str, entry: Entry, cancel_in_progress: bool = False) -> bool:
        """Wait until ``entry`` may run in ``group``; False if it was replaced while pending."""
        with self._cond:
            if cancel_in_progress and group in self._running:
                self._running[group].cancelled = True
                self.history.append((group, self._running[group].name, "cancelled"))
            if group not in self._running and group not in self._pending:
                self._running[group] = entry
                self.history.append((group, entry.name, "running"))
                return True
            replaced = self._pending.get(group)
            if replaced is not None:
                replaced.cancelled = True
                self.history.append((group, replaced.name, "replaced"))
            self._pending[group] = entry
            self.history.append((group, entry.name, "pending"))
            self._cond.notify_all()
            while not entry.cancelled:
                if group not in self._running and self._pending.get(group) is entry:
                    del self._pending[group]
                    self._running[group] = entry
                    self.history.append((group, entry.name, "running"))
                    return True
                self._cond.wait(0.1)
            return False

    def release(self, group: str, entry: Entry) -> None:
        """``entry`` has finished: the group's pending entry may start."""
        with self._cond:
            if self._running.get(group) is entry:
                del self._running[group]
            self._cond.notify_all()

    def waiting(self, group: str) -> bool:
        """True if an entry is pending in ``group``."""
        with self._cond:
            return group in self._pending
