"""The objective plot of a run: per-seed search values, means, failures, baseline band and winner.

It draws on a bare ``Figure`` with the Agg canvas, never pyplot, so no GUI backend or global
matplotlib state is touched; matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

import importlib
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.results import EvalResult, IterationSummary, RunSummary

if TYPE_CHECKING:
    from matplotlib.axes import Axes


#: The matplotlib modules :func:`plot_objective` draws with.
_MODULES = ("matplotlib.backends.backend_agg", "matplotlib.figure", "matplotlib.ticker")


def preload() -> threading.Thread:
    """Import matplotlib in a background thread and return the thread (already started).

    A run calls this as its evaluations start: the import (about a second of one core) then overlaps
    the evaluation subprocesses instead of adding to the run's wall time when the plot is drawn at
    the end (the import lock makes :func:`plot_objective` wait for it if it is not done). A failed
    import is left for :func:`plot_objective` to raise. Raises nothing.
    """

    def load() -> None:
        for name in _MODULES:
            try:
                importlib.import_module(name)
            except ImportError:
                return

    thread = threading.Thread(target=load, name="growthhacker-preload-matplotlib", daemon=True)
    thread.start()
    return thread


def _is_failed(it: IterationSummary) -> bool:
    return it.status in ("failed", "flagged") or it.search is None


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _draw_baseline(ax: Axes, baseline: EvalResult, metric: str) -> list[float]:
    """Draw the baseline mean and its ±sd band; returns the baseline values drawn."""
    mean, sd = baseline.mean(metric), baseline.stdev(metric)
    if not math.isfinite(mean):
        return []
    ax.axhline(mean, color="grey", linestyle="--", linewidth=1, label="baseline mean")
    if math.isfinite(sd) and sd > 0:
        ax.axhspan(mean - sd, mean + sd, color="grey", alpha=0.15, label="baseline ±sd")
    return _finite(baseline.values(metric))


def _draw_iterations(ax: Axes, summary: RunSummary) -> list[float]:
    """Draw per-seed points, means, failures and the winner; returns the search values drawn."""
    seed_x: list[int] = []
    seed_y: list[float] = []
    means: dict[int, float] = {}
    failed_x: list[int] = []
    for it in summary.iterations:
        values = [] if _is_failed(it) or it.search is None else _finite(it.search.values(summary.metric))
        if not values:
            failed_x.append(it.iteration)
            continue
        seed_x += [it.iteration] * len(values)
        seed_y += values
        means[it.iteration] = sum(values) / len(values)
    if seed_x:
        # One collection for all points: a scatter call per iteration makes long runs slow to draw.
        ax.scatter(seed_x, seed_y, s=12, color="tab:blue", alpha=0.35, linewidths=0, label="per seed")
        ax.plot(
            list(means), list(means.values()), marker="o", color="tab:blue", linewidth=1, label="search mean"
        )
    if failed_x:
        # Axes-relative y keeps the crosses visible whatever the data range or scale.
        top = [0.96] * len(failed_x)
        ax.scatter(
            failed_x,
            top,
            marker="x",
            color="red",
            transform=ax.get_xaxis_transform(),
            label="failed / flagged",
        )
    if summary.winner in means:
        ax.scatter(
            [summary.winner], [means[summary.winner]], marker="*", s=220, color="gold", edgecolors="black",
            zorder=5, label=f"winner (iteration {summary.winner})",
        )  # fmt: skip
    return seed_y


def plot_objective(summary: RunSummary, path: Path) -> Path:
    """Draw the objective per iteration and save it as a PNG at ``path``.

    Per-seed search values are small translucent points, the search mean per iteration a line,
    failed or flagged iterations red crosses along the top, the baseline mean a horizontal line with
    its ±sd band, and the winner a star. The y axis is logarithmic when positive values span more
    than two decades. Returns ``path``. Raises OSError if the file cannot be written.
    """
    # Imported here, not at module level: matplotlib costs seconds to import, and most commands
    # (the GitHub modes, --help) never draw.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plotted = _draw_baseline(ax, summary.baseline_search, summary.metric) + _draw_iterations(ax, summary)

    positive = [v for v in plotted if v > 0]
    if positive and len(positive) == len(plotted) and max(positive) / min(positive) > 100:
        ax.set_yscale("log")
    last = max((it.iteration for it in summary.iterations), default=1)
    ax.set_xlim(0.5, last + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    if not summary.iterations:
        ax.text(0.5, 0.8, "no iterations ran", transform=ax.transAxes, ha="center", va="center")
    better = "lower" if summary.goal == "minimize" else "higher"
    ax.set_title(f"{summary.metric} per iteration ({summary.goal}; {better} is better)")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"{summary.metric} ({better} is better)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
