"""A tiny, fast target repository for the fault matrix, and the assertions every row shares.

The harness runs with ``python -S`` (no site import: ~40 ms a seed) on one search and one held-out
seed, so a row costs a few evaluations; evaluations of the same tree are shared through one cache.
The metric ``err`` is ``|SCALE - 0.3| + 0.05`` plus a little seed noise: ``SCALE = 0.3`` improves.
Candidates provoke faults with real code in ``pipeline/model.py`` (crash, hang, NaN, …).

Every row checks the two promises of the matrix: the user's checkout is byte-for-byte what it was,
and the journal kept every earlier record and holds each step of the run exactly once.
"""

from __future__ import annotations

import difflib
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.agents.base import Agent, Analysis, AnalyzerContext, AnalyzerReply, CoderReply, CoderRequest
from bot.config import load_config
from bot.evaluate import Evaluator
from bot.journal import (
    BaselineRecorded,
    ConfirmationRecorded,
    IterationRecorded,
    Journal,
    RunFinished,
    RunStarted,
)
from bot.loop import Loop, LoopEvent
from bot.results import EvalResult, RunSummary, SeedResult
from bot.workspace import Workspace, state_dir
from tests.helpers.repos import git_repo

MODEL = "pipeline/model.py"
#: The command agent of the process rows (a script reading prompts on stdin).
AGENT = Path(__file__).with_name("fault_agent.py")
PYTHON = shlex.quote(sys.executable)

HARNESS = """\
import json, pathlib, sys
sys.path.insert(0, str(pathlib.Path(__file__).parent))
seed, out = int(sys.argv[1]), sys.argv[2]
from pipeline import model
err = model.estimate(seed)
pathlib.Path(out).write_text(json.dumps({"err": err, "runtime_s": 1.0}))
print(f"seed {seed}: err={err}")
"""


def model_code(scale: float = 1.0, body: str = "") -> str:
    """pipeline/model.py with ``SCALE`` and optional extra statements at the top of estimate()."""
    extra = "".join(f"    {line}\n" for line in body.splitlines())
    return (
        f"SCALE = {scale}\n"
        "\n"
        "\n"
        "def estimate(seed):\n"
        f"{extra}"
        "    noise = ((seed * 7919) % 100) / 10000.0\n"
        "    return abs(SCALE - 0.3) + 0.05 + noise\n"
    )


def config_text(
    timeout_s: float = 3.0, seeds: str = "{search: [0], validate: [200], confirm: [100]}",
    extra: str = "",
) -> str:
    return (
        "evaluate:\n"
        f"  command: {PYTHON} -S evaluate.py {{seed}} {{metrics_path}}\n"
        "  objective: {metric: err, goal: minimize}\n"
        "  guardrails: [{metric: runtime_s, max_regression: 0.5}]\n"
        f"  seeds: {seeds}\n"
        f"  timeout_s: {timeout_s}\n"
        "edit:\n"
        '  paths: ["pipeline/**/*.py"]\n'
        '  protected: ["evaluate.py"]\n'
        "loop:\n"
        "  iterations: 1\n"
        # One seed per tier keeps every fault row fast; at level 1/2 a single seed decides by its sign.
        "  level: 0.5\n"
        f"{extra}"
    )


def target_files(**config: object) -> dict[str, str]:
    return {
        "evaluate.py": HARNESS,
        ".growthhacker.yml": config_text(**config),  # type: ignore[arg-type]
        "pipeline/__init__.py": "",
        MODEL: model_code(),
        "README.md": "# toy OPE target\n",
        ".github/workflows/ci.yml": "on: push\n",
    }


def make_target(root: Path, files: Mapping[str, str] | None = None, **config: object) -> Path:
    """A committed git repository at ``root`` with the fault target (plus ``files``)."""
    return git_repo(root, {**target_files(**config), **(files or {})})


def model_diff(after: str, before: str | None = None) -> str:
    """A unified diff of pipeline/model.py from ``before`` (the base) to ``after``."""
    old = model_code() if before is None else before
    return "".join(
        difflib.unified_diff(old.splitlines(True), after.splitlines(True), f"a/{MODEL}", f"b/{MODEL}")
    )


GOOD_DIFF = model_diff(model_code(0.3))


# ---- the user's checkout ------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkout:
    """What the user has: every file outside .git/.growthhacker, git status, HEAD and branch."""

    files: dict[str, bytes]
    status: str
    head: str
    branch: str


def checkout_of(repo: Path) -> Checkout:
    files = {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and not p.is_symlink()
        and p.relative_to(repo).parts[0] not in (".git", ".growthhacker")
    }

    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout

    return Checkout(files, run("status", "--porcelain"), run("rev-parse", "HEAD"),
                    run("symbolic-ref", "--short", "HEAD"))


# ---- the journal ----------------------------------------------------------------------------
def seed_journal(repo: Path) -> bytes:
    """Write an earlier, finished run ("r0") to the journal; returns its bytes (must survive)."""
    journal = Journal(state_dir(repo) / "journal.jsonl")
    seed = SeedResult(seed=0, ok=True, metrics={"err": 0.75, "runtime_s": 1.0})
    result = EvalResult(tree="t0", seeds=[seed])
    journal.append(RunStarted(run_id="r0", base_commit="0" * 40, agent="earlier", iterations=1,
                              metric="err", goal="minimize"))
    journal.append(BaselineRecorded(run_id="r0", search=result, confirm=result))
    journal.append(IterationRecorded(run_id="r0", iteration=1, hypothesis="an earlier idea",
                                     persona="estimator", status="no_gain", search=result))
    journal.append(RunFinished(run_id="r0", winner=None, reason="no improvement"))
    return journal.path.read_bytes()


def assert_journal_complete(journal: Journal, earlier: bytes, run_id: str, iterations: int) -> None:
    """Earlier bytes kept; the run has one start, one baseline, iterations 1..N once each, one finish."""
    assert journal.path.read_bytes().startswith(earlier), "an earlier journal record was lost or rewritten"
    records = journal.by_run(run_id)
    kinds = [r.kind for r in records]
    assert kinds.count("run_started") == 1 and kinds.count("baseline") == 1, kinds
    assert kinds.count("run_finished") == 1, kinds
    numbers = [r.iteration for r in records if isinstance(r, IterationRecorded)]
    assert numbers == list(range(1, iterations + 1)), f"iterations recorded: {numbers}"
    confirmed = [r.iteration for r in records if isinstance(r, ConfirmationRecorded)]
    assert len(confirmed) == len(set(confirmed)), f"duplicate confirmations: {confirmed}"


# ---- agents ---------------------------------------------------------------------------------
@dataclass
class FixedAgent:
    """Analyzer + Coder that answer with fixed text: the Coder's answers are played in order."""

    answers: Sequence[str]
    hypothesis: str = "set SCALE to 0.3"
    requests: list[CoderRequest] = field(default_factory=list)

    def analyze(self, context: AnalyzerContext) -> AnalyzerReply:
        analysis = Analysis(hypothesis=self.hypothesis, persona="hyperparameter")
        return AnalyzerReply(analysis=analysis, prompt="p", response=analysis.model_dump_json())

    def write_diff(self, request: CoderRequest) -> CoderReply:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return CoderReply(diff=answer, prompt="p", response=answer)

    def agent(self) -> Agent:
        return Agent(name="fixed", analyzer=self, coder=self)


@dataclass
class Outcome:
    summary: RunSummary
    journal: Journal
    events: list[LoopEvent]

    @property
    def iteration(self) -> IterationRecorded:
        return next(r for r in self.journal.by_run("r1") if isinstance(r, IterationRecorded))


def run_loop(
    repo: Path,
    agent: Agent,
    cache: Path,
    *,
    iterations: int = 1,
    environ: Mapping[str, str] | None = None,
    hints: list[str] | None = None,
    on_event: Callable[[LoopEvent], None] | None = None,
) -> Outcome:
    """Run the real loop (run id "r1") on ``repo`` with ``agent``; evaluations cached in ``cache``."""
    config = load_config(repo)
    state = state_dir(repo)
    journal = Journal(state / "journal.jsonl")
    events: list[LoopEvent] = []

    def record(event: LoopEvent) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    workspace = Workspace.open(repo, "r1")
    loop = Loop(
        config=config,
        workspace=workspace,
        evaluator=Evaluator(config.evaluate, cache, environ={"PATH": "/usr/bin:/bin", **(environ or {})}),
        journal=journal,
        agent=agent,
        run_id="r1",
        run_dir=state / "runs" / "r1",
        iterations=iterations,
        hints=hints,
        on_event=record,
    )
    try:
        summary = loop.run()
    finally:
        workspace.remove()
    return Outcome(summary, journal, events)
