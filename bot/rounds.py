"""Rounds of proposals: several hypotheses proposed on the same incumbent, their search evaluations
run at once, each in its own worktree, as far as ``evaluate.workers`` allows (``loop.round_size``).

The loop proposes a round's candidates one after the other (each Analyzer call is told the round's
earlier hypotheses, so it proposes something else), evaluates them here side by side, then judges
and records them in order; the next round re-reads the journal, so best-first learning goes on
between rounds. A round of one is the loop as it always was: no extra worktree.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.agents.base import Analysis, Usage
from bot.config import Config
from bot.evaluate import Evaluator
from bot.gate import Gate, Notify, Refusal
from bot.journal import IterationRecorded
from bot.patch import PathPolicy
from bot.results import EvalResult
from bot.workspace import Workspace


@dataclass(frozen=True)
class Proposal:
    """A candidate proposed and written as a diff (against the base), waiting for its evaluation."""

    n: int
    started: float
    it_dir: Path
    parent: IterationRecorded | None
    analysis: Analysis
    diff: str
    usage: Usage


Searched = tuple[EvalResult | None, Refusal | None]


class Slots:
    """One worktree per candidate of a round beyond the loop's own, opened on first use and reused
    by every round; :meth:`close` removes them."""

    def __init__(self, *, config: Config, workspace: Workspace, policy: PathPolicy, evaluator: Evaluator,
                 run_id: str, notify: Notify) -> None:
        self.config = config
        self.ws = workspace
        self.policy = policy
        self.evaluator = evaluator
        self.run_id = run_id
        self.notify = notify
        self._open: list[Workspace] = []

    def search(self, proposals: list[Proposal]) -> list[Searched]:
        """Gate and evaluate every proposal on the search seeds, at most ``evaluate.workers`` at once
        (each with its share of the workers for its seeds); returns their results in order.

        Raises:
            WorkspaceError: a worktree cannot be created.
            PatchError: a proposal's diff no longer applies (it applied when it was written).
        """
        project = self.ws.repo / self.ws.subdir if self.ws.subdir else self.ws.repo
        while len(self._open) < len(proposals):  # one after the other: git worktree add is not concurrent
            self._open.append(Workspace.open(project, f"{self.run_id}-slot{len(self._open)}", self.ws.base))
        at_once = max(1, min(len(proposals), self.config.evaluate.workers))
        evaluator = self.evaluator.with_workers(self.config.evaluate.workers // at_once)

        def one(slot: int) -> Searched:
            ws, proposal = self._open[slot], proposals[slot]
            ws.reset()
            ws.apply(proposal.diff, self.policy)
            gate = Gate(self.config, ws, self.policy, evaluator, self.notify)
            return gate.search(proposal.it_dir, proposal.n)

        with ThreadPoolExecutor(max_workers=at_once) as pool:
            return list(pool.map(one, range(len(proposals))))

    def close(self) -> None:
        """Remove the worktrees this opened."""
        for ws in self._open:
            ws.remove()
        self._open.clear()
