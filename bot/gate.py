"""The loop's gate: a candidate worktree checked (integrity, compile, the repository's checks),
evaluated, and caught if it tampers with the harness or the user's checkout while it runs.

A :class:`Refusal` of kind ``integrity`` marks the candidate as "flagged" (metric gaming): the loop
records it and selection never picks it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config
from bot.evaluate import Evaluator, compile_gate
from bot.integrity import check_diff, checkout_fingerprint
from bot.patch import PathPolicy
from bot.results import EvalResult, IterationFailure
from bot.workspace import Workspace


@dataclass(frozen=True)
class Refusal:
    """Why the gate refused a candidate: ``kind`` for code, ``reason`` for people and agents."""

    kind: IterationFailure
    reason: str


#: ``(kind, message, iteration)`` — the loop turns these into its progress events.
Notify = Callable[[str, str, int], None]


class Gate:
    """Runs the gate on the workspace as it stands (the loop applies the candidate first)."""

    def __init__(self, config: Config, workspace: Workspace, policy: PathPolicy, evaluator: Evaluator,
                 notify: Notify) -> None:
        self.config = config
        self.ws = workspace
        self.policy = policy
        self.evaluator = evaluator
        self.notify = notify

    def search(self, it_dir: Path, n: int) -> tuple[EvalResult | None, Refusal | None]:
        """Gate and evaluate iteration ``n`` on the search seeds; returns (result, refusal or None).

        The result is None when a gate refused the candidate before any evaluation ran.
        """
        restored = self.ws.restore_protected(self.policy.protected)
        if restored:
            self.notify("protected_restored", f"restored protected files {restored}", n)
        refused = self._gates(it_dir, n)
        if refused:
            return None, refused
        seeds = self.config.evaluate.seeds.search
        self.notify("evaluating", f"iteration {n}: evaluating on seeds {seeds}", n)
        search, tampering = self._evaluate(seeds, it_dir / "logs")
        write_json(it_dir / "metrics.json", search.model_dump())
        if tampering:
            self.notify("flagged", f"iteration {n} flagged: {tampering}", n)
            return search, Refusal("integrity", f"integrity: {tampering}")
        if not search.ok:
            bad = search.first_failure
            assert bad is not None and bad.failure is not None
            return search, Refusal(bad.failure, f"{bad.failure}: seed {bad.seed}: {bad.reason}")
        return search, None

    def held(self, seeds: list[int], it_dir: Path, name: str) -> tuple[EvalResult, Refusal | None]:
        """Evaluate the worktree on ``seeds`` of a later tier (validation, held-out), writing
        ``it_dir/<name>.json``; returns (result, tampering refusal or None)."""
        self.ws.restore_protected(self.policy.protected)
        result, tampering = self._evaluate(seeds, it_dir / "logs")
        write_json(it_dir / f"{name}.json", result.model_dump())
        return result, (Refusal("integrity", f"integrity: {tampering}") if tampering else None)

    def _gates(self, it_dir: Path, n: int) -> Refusal | None:
        """Why the candidate may not be evaluated (integrity, syntax, the repo's checks), or None."""
        files = self.ws.editable_files(self.policy)
        findings = check_diff(self.ws.diff_from_base(), self.policy.protected, self.config.evaluate.metrics,
                              files=files)
        if findings:
            shown = "; ".join(str(f) for f in findings[:5])
            more = f" (+{len(findings) - 5} more)" if len(findings) > 5 else ""
            self.notify("flagged", f"iteration {n} flagged by the integrity check: {shown}", n)
            return Refusal("integrity", f"integrity: {shown}{more}")
        problem = compile_gate(self.ws.root, [p for p in files if p.endswith(".py")])
        if problem:
            return Refusal("compile_error", f"compile_error: {problem}")
        if self.config.evaluate.checks:
            problem = self.evaluator.run_checks(self.ws.project_root, it_dir / "logs")
            if problem:
                return Refusal("check_failed", f"check_failed: {problem}")
        return None

    def _evaluate(self, seeds: list[int], log_dir: Path) -> tuple[EvalResult, str | None]:
        tree = self.ws.tree_hash()
        checkout = checkout_fingerprint(self.ws.repo)
        result = self.evaluator.evaluate(self.ws.project_root, tree, seeds, log_dir)
        return result, self._tampering(checkout)

    def _tampering(self, checkout: str) -> str | None:
        """Why the evaluation that just ran counts as tampering (None if it does not).

        It changed protected files in the worktree (the harness, while it ran: the later seeds of
        the same evaluation would have used the changed harness), or wrote into the user's checkout.
        """
        restored = self.ws.restore_protected(self.policy.protected)
        if restored:
            return f"the candidate changed protected files while it ran: {', '.join(restored)}"
        if checkout_fingerprint(self.ws.repo) != checkout:
            return "the candidate wrote into the user's checkout while it ran (outside its worktree)"
        return None


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as stable, indented JSON, creating the parent directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
