"""Where a run is: evaluations done / planned and an ETA, live on a terminal, as plain lines in CI logs.

A run's cost is its evaluations (each seed of each tree runs the repository's own command), so that is
what the display counts. :func:`planned_evaluations` is the plan a run starts with; :class:`Tracker`
revises it as the loop reports (an early stop drops the remaining iterations, a would-be incumbent
adds its validation seeds, the end makes done the total) and estimates the time left from the seeds'
measured durations. On a terminal :class:`RunDisplay` keeps a rich progress bar under the event
lines; anywhere else (a CI log, a pipe) each event line ends with the same counts, timestamped, and
nothing is redrawn.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from bot.config import Config
from bot.loop import LoopEvent
from bot.results import SeedResult

EVENT_STYLE = {
    "baseline": "cyan", "baseline_done": "cyan", "baseline_failed": "bold red",
    "hypothesis": "magenta", "iteration_done": "green", "patch_refused": "yellow",
    "protected_restored": "yellow", "stopped": "yellow", "confirming": "cyan",
    "confirmed": "bold green", "not_confirmed": "yellow", "committed": "bold green",
    "finished": "bold",
}


def planned_evaluations(config: Config, iterations: int) -> int:
    """Evaluations a run plans at its start: the baseline on every tier, each iteration on the search
    seeds, the ``loop.confirm_top`` finalists on the held-out seeds (validating a would-be incumbent
    and extending an undecided finalist are added when they happen)."""
    seeds = config.evaluate.seeds
    baseline = len(seeds.search) + len(seeds.validation) + len(seeds.confirm)
    return baseline + iterations * len(seeds.search) + config.loop.confirm_top * len(seeds.confirm)


def duration_text(seconds: float) -> str:
    """``seconds`` as "45s", "3m 05s" or "2h 10m"."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60:02d}s"
    return f"{total // 3600}h {total % 3600 // 60:02d}m"


class Tracker:
    """Evaluations done and planned, and the time left, from the loop's events and finished seeds.

    Thread-safe: seeds finish on the evaluator's worker threads.
    """

    def __init__(self, config: Config, iterations: int) -> None:
        seeds = config.evaluate.seeds
        self.iterations = iterations
        self.workers = config.evaluate.workers
        self._search, self._validation, self._confirm = len(seeds.search), len(seeds.validation), \
            len(seeds.confirm)
        self._finalists = config.loop.confirm_top
        self.planned = planned_evaluations(config, iterations)
        self.done = 0
        self._durations: list[float] = []
        self._confirming = 0
        self._lock = threading.Lock()

    def seed_done(self, result: SeedResult) -> None:
        """Count one evaluated seed; a cached one costs no time and does not move the estimate."""
        with self._lock:
            self.done += 1
            if not result.cached:
                self._durations.append(result.duration_s)
            self.planned = max(self.planned, self.done)

    def event(self, event: LoopEvent) -> None:
        """Revise the plan from what the loop reports."""
        with self._lock:
            n = event.iteration
            if event.kind in ("iteration_done", "stopped") and n is not None:
                left = 0 if event.kind == "stopped" else self.iterations - n
                self.planned = self.done + left * self._search + self._finalists * self._confirm
            elif event.kind == "validating":
                self.planned += self._validation
            elif event.kind == "confirming":
                self._confirming += 1
                self.planned = self.done + max(1, self._finalists - self._confirming + 1) * self._confirm
            elif event.kind == "finished":
                self.planned = self.done
            self.planned = max(self.planned, self.done)

    def seconds_left(self) -> float | None:
        """Estimated seconds until the planned evaluations are done; None before any seed was timed."""
        with self._lock:
            if not self._durations:
                return None
            per_seed = statistics.fmean(self._durations) / max(1, self.workers)
            return per_seed * max(0, self.planned - self.done)

    def summary(self) -> str:
        """"evaluations 12/50, about 3m 10s left" (no estimate before the first timed seed)."""
        left = self.seconds_left()
        text = f"evaluations {self.done}/{self.planned}"
        if left is None or self.done >= self.planned:
            return text
        return f"{text}, about {duration_text(left)} left"


class RunDisplay:
    """Renders a run: event lines, and the progress as a live bar (terminal) or in each line (not).

    Use as a context manager around ``loop.run()``; pass :meth:`event` as the loop's event sink and
    :meth:`seed_done` as the evaluator's seed callback.
    """

    def __init__(
        self, console: Console, tracker: Tracker, now: Callable[[], datetime] = datetime.now,
        live: bool | None = None,
    ) -> None:
        """``live`` (default: whether the console writes to a real, capable terminal) picks the bar."""
        self.console = console
        self.tracker = tracker
        self.live = _interactive(console) if live is None else live
        self._now = now
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RunDisplay:
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]evaluations"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("{task.fields[eta]}"),
                console=self.console, transient=True,
            )
            self._task = self._progress.add_task("run", total=self.tracker.planned, eta="")
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def event(self, event: LoopEvent) -> None:
        """Print ``event`` as a timestamped line (with the counts when not live) and revise the plan."""
        self.tracker.event(event)
        style = EVENT_STYLE.get(event.kind, "dim")
        # Escaped: messages hold "[persona]" tags and code that rich would read as markup and drop.
        line = f"[dim]{self._now():%H:%M:%S}[/dim] [{style}]{escape(event.message)}[/{style}]"
        if not self.live and self.tracker.done:
            line += f" [dim]({self.tracker.summary()})[/dim]"
        self.console.print(line)
        self._refresh()

    def seed_done(self, result: SeedResult) -> None:
        """Count a finished seed (called from the evaluator's threads)."""
        self.tracker.seed_done(result)
        self._refresh()

    def _refresh(self) -> None:
        if self._progress is None or self._task is None:
            return
        left = self.tracker.seconds_left()
        eta = f"about {duration_text(left)} left" if left is not None else "timing the first seeds"
        self._progress.update(self._task, completed=self.tracker.done, total=self.tracker.planned, eta=eta)


def _interactive(console: Console) -> bool:
    """True when ``console`` writes to a terminal someone watches.

    The file itself must be a TTY: CI systems often set FORCE_COLOR, which makes rich treat a log as a
    terminal, and a redrawn bar in a log is noise.
    """
    isatty = getattr(console.file, "isatty", None)
    return bool(isatty is not None and isatty()) and not console.is_dumb_terminal
