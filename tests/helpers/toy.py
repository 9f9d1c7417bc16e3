"""A toy target repository and a scripted agent for testing the loop without obp or an LLM.

The toy's metric ``err`` is |SCALE - 0.3| + 0.05 plus a little seed noise, so the best edit is
SCALE = 0.3. Flags in ``pipeline/params.py`` make the evaluation crash, hang, emit NaN, or "overfit"
(look good on search seeds < 100 only), so every loop behaviour can be provoked by a real diff.
"""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.agents.base import (
    Agent,
    Analysis,
    AnalyzerContext,
    AnalyzerReply,
    CoderReply,
    CoderRequest,
)
from bot.errors import AgentError

PARAMS = "pipeline/params.py"

EVALUATE = """\
import argparse, json, pathlib, random, sys, time
sys.path.insert(0, str(pathlib.Path(__file__).parent))
from pipeline import params

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
if getattr(params, "CRASH", False):
    sys.exit("pipeline exploded")
if getattr(params, "HANG", False):
    time.sleep(600)
noise = random.Random(args.seed).uniform(-0.01, 0.01)
err = abs(params.SCALE - 0.3) + 0.05 + noise
if getattr(params, "OVERFIT", False):
    err = err * (0.1 if args.seed < 100 else 3.0)
if getattr(params, "NAN", False):
    err = float("nan")
runtime = 1.0 * getattr(params, "COST", 1.0)
pathlib.Path(args.out).write_text(json.dumps({"err": err, "runtime_s": runtime}))
print(f"seed {args.seed}: err={err:.4f}")
"""

CONFIG = """\
evaluate:
  command: python evaluate.py --seed {seed} --out {metrics_path}
  objective: {metric: err, goal: minimize}
  guardrails: [{metric: runtime_s, max_regression: 0.5}]
  seeds: {search: [0, 1, 2], confirm: [100, 101, 102, 103, 104]}
  timeout_s: 5
edit:
  paths: ["pipeline/**/*.py"]
  protected: ["evaluate.py"]
loop:
  iterations: 3
  agent: heuristic
"""


def toy_files(scale: float = 1.0) -> dict[str, str]:
    """The files of a fresh toy target repository."""
    return {
        "evaluate.py": EVALUATE,
        ".growthhacker.yml": CONFIG,
        "pipeline/__init__.py": "",
        PARAMS: f"SCALE = {scale}\n",
    }


@dataclass(frozen=True)
class Step:
    """One scripted iteration: the hypothesis and the full new text of ``path`` (pipeline/params.py
    unless said otherwise; the path is matched at the end of the editable file's name).

    ``raw_first`` answers are returned before the good diff (to exercise the repair loop).
    """

    hypothesis: str
    params: str
    raw_first: tuple[str, ...] = ()
    #: Seconds the analyzer sleeps before answering (lets a test kill the run mid-iteration).
    sleep: float = 0.0
    path: str = PARAMS


@dataclass
class ScriptedAgent:
    """Analyzer + Coder that play back :class:`Step` s; records the contexts it was given."""

    steps: Sequence[Step]
    contexts: list[AnalyzerContext] = field(default_factory=list)
    requests: list[CoderRequest] = field(default_factory=list)

    def analyze(self, context: AnalyzerContext) -> AnalyzerReply:
        self.contexts.append(context)
        index = len(self.contexts) - 1
        if index >= len(self.steps):
            raise AgentError("script exhausted")
        step = self.steps[index]
        time.sleep(step.sleep)
        analysis = Analysis(
            hypothesis=step.hypothesis, persona="hyperparameter", details={"step": str(index)}
        )
        return AnalyzerReply(
            analysis=analysis, prompt=f"context #{index}", response=json.dumps(analysis.model_dump())
        )

    def write_diff(self, request: CoderRequest) -> CoderReply:
        self.requests.append(request)
        step = self.steps[int(request.analysis.details["step"])]
        if request.attempt < len(step.raw_first):
            raw = step.raw_first[request.attempt]
            return CoderReply(diff=raw, prompt="coder", response=raw)
        path = next(p for p in request.files if p.endswith(step.path))
        before = request.files[path]
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(True), step.params.splitlines(True), f"a/{path}", f"b/{path}"
            )
        )
        return CoderReply(diff=diff, prompt="coder", response=diff)

    def agent(self) -> Agent:
        return Agent(name="scripted", analyzer=self, coder=self)
