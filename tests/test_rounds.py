"""Rounds of proposals (``loop.round_size``): several hypotheses on one incumbent, evaluated side by
side in their own worktrees, the journal re-read between rounds."""

from __future__ import annotations

from bot.journal import IterationRecorded
from bot.loop import LoopEvent
from tests.helpers.loop import run_loop
from tests.helpers.toy import CONFIG, Step, toy_files

STEPS = [
    Step("scale 0.6", "SCALE = 0.6\n"),
    Step("scale 0.3", "SCALE = 0.3\n"),
    Step("scale 0.4", "SCALE = 0.4\n"),
    Step("scale 0.35", "SCALE = 0.35\n"),
]


def test_rounds_of_two_propose_two_hypotheses_then_learn_from_both(make_repo) -> None:  # type: ignore[no-untyped-def]
    files = toy_files(scale=1.0)
    files[".growthhacker.yml"] = CONFIG.replace("  timeout_s: 5\n", "  timeout_s: 5\n  workers: 2\n")
    repo = make_repo(files)
    events: list[LoopEvent] = []

    summary, agent, journal = run_loop(repo, STEPS, events=events, round_size=2)

    records = [r for r in journal.records() if isinstance(r, IterationRecorded)]
    assert [r.iteration for r in records] == [1, 2, 3, 4]
    # Two proposals per round, both built on the incumbent the round started from.
    assert [r.parent for r in records] == [None, None, 2, 2]
    assert [r.status for r in records] == ["improved", "improved", "improved", "improved"]
    assert summary.winner == 2
    # Within a round the Analyzer is told what the round already proposed, not yet its results …
    assert [c.proposed for c in agent.contexts] == [[], ["scale 0.6"], [], ["scale 0.4"]]
    assert not [a for a in agent.contexts[1].attempts if a.run_id == "r1"]
    # … and the next round's Analyzer sees the first round's results, best first.
    seen = [(a.iteration, a.status) for a in agent.contexts[2].attempts if a.run_id == "r1"]
    assert seen == [(2, "improved"), (1, "improved")]
    assert agent.contexts[2].incumbent is not None and agent.contexts[2].incumbent.iteration == 2
    # Both candidates of a round were proposed before either was evaluated.
    kinds = ("hypothesis", "evaluating", "iteration_done")
    order = [(e.kind, e.iteration) for e in events if e.kind in kinds]
    assert order.index(("hypothesis", 2)) < order.index(("evaluating", 1))
    assert order.index(("iteration_done", 2)) < order.index(("hypothesis", 3))
    assert not list((repo / ".growthhacker" / "worktrees").glob("r1-slot*")), "slot worktrees are removed"
