"""The run display: the planned evaluations, the revised plan, the ETA and the plain lines of a CI log."""

from __future__ import annotations

import io
import re
from datetime import datetime

from rich.console import Console

from bot.cli.progress import RunDisplay, Tracker, duration_text, planned_evaluations
from bot.config import Config
from bot.loop import LoopEvent
from bot.results import SeedResult


def config(**seeds: object) -> Config:
    return Config.model_validate({
        "evaluate": {"command": "python eval.py --seed {seed} --out {metrics_path}",
                     "objective": {"metric": "err", "goal": "minimize"}, "workers": 2,
                     "seeds": seeds or {}},
        "edit": {"paths": ["src/**"]},
        "loop": {"confirm_top": 3},
    })


def seed(duration: float, cached: bool = False) -> SeedResult:
    return SeedResult(seed=0, ok=True, metrics={"err": 1.0}, duration_s=duration, cached=cached)


def test_the_plan_counts_every_tier_of_the_defaults() -> None:
    # baseline on 3 search + 3 validation + 5 held-out seeds, 8 × 3 search, 3 finalists × 5 held-out.
    assert planned_evaluations(config(), 8) == 11 + 24 + 15
    assert planned_evaluations(config(search=[0, 1], validate=[], confirm=[9]), 4) == 3 + 8 + 3


def test_the_plan_follows_the_run() -> None:
    tracker = Tracker(config(), iterations=8)
    for _ in range(11 + 3):
        tracker.seed_done(seed(2.0))
    tracker.event(LoopEvent("iteration_done", "…", 1))
    assert tracker.planned == 14 + 7 * 3 + 15

    tracker.event(LoopEvent("validating", "…", 1))
    assert tracker.planned == 14 + 7 * 3 + 15 + 3

    tracker.event(LoopEvent("stopped", "patience", 2))  # no more iterations: only the finalists
    assert tracker.planned == 14 + 15
    tracker.event(LoopEvent("confirming", "…", 1))
    tracker.event(LoopEvent("confirming", "…", 2))
    assert tracker.planned == 14 + 2 * 5, "two finalists left to confirm, the second one now"

    tracker.event(LoopEvent("finished", "done"))
    assert tracker.planned == tracker.done == 14


def test_the_time_left_comes_from_the_timed_seeds_and_the_workers() -> None:
    tracker = Tracker(config(search=[0], validate=[], confirm=[5]), iterations=2)  # 2 + 2 + 3 = 7
    assert tracker.seconds_left() is None and tracker.summary() == "evaluations 0/7"

    tracker.seed_done(seed(4.0))
    tracker.seed_done(seed(8.0))
    tracker.seed_done(seed(0.0, cached=True))  # read from the cache: counted, not timed

    assert tracker.seconds_left() == 6.0 / 2 * 4
    assert tracker.summary() == "evaluations 3/7, about 12s left"


def test_durations_read_like_a_person_would_say_them() -> None:
    assert [duration_text(s) for s in (0.4, 59, 61, 3599, 7800)] == [
        "0s", "59s", "1m 01s", "59m 59s", "2h 10m"]


def test_without_a_terminal_each_event_is_one_timestamped_line_with_the_counts() -> None:
    out = io.StringIO()
    # FORCE_COLOR in a CI job makes rich call a log a terminal: still plain lines, as the file is no TTY.
    console = Console(file=out, force_terminal=True, no_color=True, width=200, highlight=False)
    display = RunDisplay(console, Tracker(config(search=[0], validate=[], confirm=[5]), iterations=2),
                         now=lambda: datetime(2026, 1, 2, 3, 4, 5))

    with display:
        display.event(LoopEvent("baseline", "evaluating the base commit"))
        display.event(LoopEvent("hypothesis", "[explorer] clip the weights at [100]", 1))
        display.seed_done(seed(3.0))
        display.seed_done(seed(5.0))
        display.event(LoopEvent("baseline_done", "baseline err = 1"))

    assert not display.live
    lines = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue()).splitlines()  # colours may stay; nothing else
    assert lines == ["03:04:05 evaluating the base commit",
                     "03:04:05 [explorer] clip the weights at [100]",
                     "03:04:05 baseline err = 1 (evaluations 2/7, about 10s left)"]
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d .*", line) for line in lines)
    assert "\x1b[1A" not in out.getvalue() and "\r" not in out.getvalue(), "no redraws in a log"


def test_on_a_terminal_a_live_bar_counts_the_evaluations() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, highlight=False)
    display = RunDisplay(console, Tracker(config(search=[0], validate=[], confirm=[5]), iterations=2),
                         live=True)

    with display:
        display.seed_done(seed(3.0))
        display.event(LoopEvent("baseline_done", "baseline err = 1"))
        assert display.live and display._progress is not None
        task = display._progress.tasks[0]
        assert (task.completed, task.total) == (1, 7)

    assert "baseline err = 1" in out.getvalue()
