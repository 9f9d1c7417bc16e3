"""Running the inner loop on a toy repository with a scripted agent."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_config
from bot.evaluate import Evaluator
from bot.journal import Journal
from bot.loop import Loop, LoopEvent
from bot.results import RunSummary
from bot.workspace import Workspace, state_dir
from tests.helpers.toy import ScriptedAgent, Step

#: Three scripted iterations on the toy target: 0.3 is the best SCALE, 0.6 and 0.4 improve less.
STEPS = [
    Step("scale 0.6", "SCALE = 0.6\n"),
    Step("scale 0.3", "SCALE = 0.3\n"),
    Step("scale 0.4", "SCALE = 0.4\n"),
]


def run_loop(
    repo: Path,
    steps: list[Step],
    run_id: str = "r1",
    events: list[LoopEvent] | None = None,
    resume: bool = False,
    environ: dict[str, str] | None = None,
    **overrides: object,
) -> tuple[RunSummary, ScriptedAgent, Journal]:
    config = load_config(repo)
    if overrides:
        loop_cfg = config.loop.model_copy(update=overrides)
        config = config.model_copy(update={"loop": loop_cfg})
    state = state_dir(repo)
    journal = Journal(state / "journal.jsonl")
    agent = ScriptedAgent(steps)
    workspace = Workspace.open(repo, run_id)
    loop = Loop(
        config=config,
        workspace=workspace,
        evaluator=Evaluator(config.evaluate, state / "cache", environ=environ),
        journal=journal,
        agent=agent.agent(),
        run_id=run_id,
        run_dir=state / "runs" / run_id,
        iterations=len(steps),
        on_event=(events.append if events is not None else None),
    )
    return loop.run(resume=resume), agent, journal
