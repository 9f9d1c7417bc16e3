"""The benchmark report: markdown tables (ours beside the study's published figures) and a plot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from evals.metrics import CellMetrics, by_framework, cell, cells, is_positive
from evals.records import FRAMEWORKS, RunRecord
from evals.study import SOURCE, STUDY, StudyFigure, figures_for

REPORT_FILE = "report.md"
PLOT_FILE = "improvements.png"

_CELL_HEADER = ("| target | framework | runs | reliability | positive | mean Δ (pos.) | median Δ (pos.) "
                "| extreme values | held-out rejects | tokens/run | $/run | wall/run | overhead/eval "
                "| overhead/run |")
_CELL_RULE = "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"


def pct(value: float | None, signed: bool = False) -> str:
    """``0.1234`` → ``"12.3%"`` (``"+12.3%"`` if ``signed``); ``"—"`` for None/NaN."""
    if value is None or not math.isfinite(value):
        return "—"
    if signed:
        return f"{value:+.1%}"
    text = f"{value:.1%}"
    return text.replace(".0%", "%")


def _count(part: int, whole: int) -> str:
    return f"{pct(part / whole)} ({part}/{whole})" if whole else "—"


def _seconds(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    return f"{value:.0f} s" if value < 600 else f"{value / 60:.1f} min"


def cell_row(m: CellMetrics) -> str:
    """One markdown table row of a cell."""
    ratio = f"{m.overhead_ratio:.2f}" if m.overhead_ratio is not None else "—"
    run_ratio = pct(m.run_overhead_ratio) if m.run_overhead_ratio is not None else "—"
    return (f"| {m.target} | {m.framework} | {m.runs} | {_count(m.reliable, m.runs)} | "
            f"{_count(m.positive, m.runs)} | {pct(m.mean_improvement, True)} | "
            f"{pct(m.median_improvement, True)} | {m.extreme_values} | {m.heldout_rejections} | "
            f"{m.tokens_per_run:,.0f} | ${m.usd_per_run:.3f} | {_seconds(m.wall_s_per_run)} | {ratio} "
            f"| {run_ratio} |")


def cell_table(records: Sequence[RunRecord]) -> str:
    """The per target × framework markdown table (header and one row per cell)."""
    return "\n".join([_CELL_HEADER, _CELL_RULE, *(cell_row(m) for m in cells(records))])


def trap_table(records: Sequence[RunRecord]) -> str:
    """Per audited target × framework × validation setting: how often the final incumbent and the
    winner are traps (worse than the baseline on the audit seeds), and how many candidates did not
    validate."""
    rows = ["| target | framework | validation seeds | audited runs | incumbent a trap | winner a trap "
            "| did not validate |", "|---|---|--:|--:|--:|--:|--:|"]
    groups: dict[tuple[str, str, int], list[RunRecord]] = {}
    for r in records:
        if r.spec.audit_seeds:
            groups.setdefault((r.spec.target, r.spec.framework, len(r.spec.validate_seeds)), []).append(r)
    for (target, framework, validate), runs in sorted(groups.items()):
        m = cell(target, framework, runs)
        rows.append(f"| {target} | {framework} | {validate or 'off'} | {m.audited} | "
                    f"{_count(m.trap_incumbents, m.audited)} | {_count(m.trap_winners, m.audited)} | "
                    f"{m.not_validated} |")
    return "\n".join(rows)


def seed_table(records: Sequence[RunRecord]) -> str:
    """Per target: how many seed evaluations its runs made, their mean and the slowest, in seconds."""
    rows = ["| target | seeds evaluated | mean | max |", "|---|--:|--:|--:|"]
    for target in sorted({r.spec.target for r in records}):
        runs = [r for r in records if r.spec.target == target]
        count = sum(r.seeds_evaluated for r in runs)
        if not count:
            rows.append(f"| {target} | 0 | — | — |")
            continue
        worst = max(r.seed_s_max or 0.0 for r in runs)
        rows.append(f"| {target} | {count} | {sum(r.eval_s for r in runs) / count:.1f} s | {worst:.1f} s |")
    return "\n".join(rows)


def _study_text(figure: StudyFigure) -> str:
    parts = []
    if figure.reliability is not None:
        low, high = figure.reliability
        parts.append(f"reliability {pct(low)}" if low == high else f"reliability {pct(low)}–{pct(high)}")
    if figure.positive_rate is not None:
        parts.append(f"positive {pct(figure.positive_rate)}")
    if figure.mean_improvement is not None:
        parts.append(f"mean {pct(figure.mean_improvement, True)}")
    if figure.median_improvement is not None:
        parts.append(f"median {pct(figure.median_improvement, True)}")
    return f"{figure.version}: " + ", ".join(parts) if parts else ""


def render(records: Sequence[RunRecord], title: str) -> str:
    """The whole report as markdown: configuration, per-cell table, per-framework table with the
    study's figures beside ours, the published figures, and where the metrics are defined."""
    lines = [f"# {title}", ""]
    if not records:
        return "\n".join([*lines, "No runs recorded.", ""])
    machines = sorted({r.machine for r in records})
    started = sorted(r.started_at for r in records)
    iterations = sorted({r.spec.iterations for r in records})
    seeds = sorted({(len(r.spec.search_seeds), len(r.spec.validate_seeds), len(r.spec.confirm_seeds))
                    for r in records})
    backends = sorted({r.backend for r in records})
    lines += [
        f"- runs: {len(records)}, started {started[0]} … {started[-1]} (UTC)",
        f"- machine: {'; '.join(machines)}",
        f"- iterations per run: {', '.join(map(str, iterations))}; seeds per run (search, validation, "
        "held-out): " + ", ".join(f"{s}+{v}+{c}" for s, v, c in seeds),
        f"- agents: {', '.join(backends)}",
        "",
        "## Per target × framework",
        "",
        cell_table(records),
        "",
        "## Per framework, all targets, beside the study",
        "",
        "| framework | runs | reliability | positive | mean Δ (pos.) | median Δ (pos.) | extreme values "
        "| held-out rejects | study (published) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for m in by_framework(records):
        study = "; ".join(t for t in (_study_text(f) for f in figures_for(m.framework)) if t) or "—"
        lines.append(f"| {m.framework} | {m.runs} | {_count(m.reliable, m.runs)} | "
                     f"{_count(m.positive, m.runs)} | {pct(m.mean_improvement, True)} | "
                     f"{pct(m.median_improvement, True)} | {m.extreme_values} | {m.heldout_rejections} | "
                     f"{study} |")
    if any(r.spec.audit_seeds for r in records):
        lines += ["", "## Traps (audited on fresh seeds)", "", trap_table(records)]
    lines += ["", "## Seconds per seed (one evaluation, imports included)", "", seed_table(records)]
    lines += ["", f"## Published figures ({SOURCE})", "",
              "| framework | version | reliability | positive | mean Δ (pos.) | median Δ (pos.) | note |",
              "|---|---|--:|--:|--:|--:|---|"]
    for f in STUDY:
        rel = "—" if f.reliability is None else (pct(f.reliability[0]) if f.reliability[0] == f.reliability[1]
                                                  else f"{pct(f.reliability[0])}–{pct(f.reliability[1])}")
        lines.append(f"| {f.framework} | {f.version} | {rel} | {pct(f.positive_rate)} | "
                     f"{pct(f.mean_improvement, True)} | {pct(f.median_improvement, True)} | {f.note} |")
    lines += ["", "Δ is the relative improvement of the objective on the held-out seeds (positive = better). "
              "Definitions: evals/README.md. Our targets, seeds and budgets differ from the study's; its "
              "numbers are a reference, not a like-for-like comparison.", ""]
    return "\n".join(lines)


def plot(records: Sequence[RunRecord], path: Path) -> Path:
    """Write the distribution of held-out improvements per framework (positive runs as points, every
    other run at 0 in grey) to ``path``; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frameworks = [f for f in FRAMEWORKS if any(r.spec.framework == f for r in records)]
    fig, ax = plt.subplots(figsize=(2.2 + 1.8 * max(1, len(frameworks)), 4.2))
    for x, framework in enumerate(frameworks):
        runs = [r for r in records if r.spec.framework == framework]
        positive = [100 * (r.heldout_improvement or 0.0) for r in runs if is_positive(r)]
        others = len(runs) - len(positive)
        if len(positive) > 1:
            ax.boxplot([positive], positions=[x], widths=0.5, showfliers=False)
        offsets = [0.12 * ((i % 5) - 2) / 2 for i in range(len(positive))]
        ax.scatter([x + o for o in offsets], positive, color="tab:green", zorder=3, s=22, label=None)
        if others:
            ax.scatter([x], [0.0], color="grey", s=22 + 6 * others, zorder=2)
            ax.annotate(f"{others} not positive", (x, 0.0), textcoords="offset points", xytext=(8, -12),
                        fontsize=8, color="grey")
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.margins(y=0.15)
    ax.set_xticks(range(len(frameworks)), frameworks)
    ax.set_xlim(-0.7, len(frameworks) - 0.3)
    ax.set_ylabel("held-out improvement of the objective (%)")
    ax.set_title("Improvement per run, by framework")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(records: Sequence[RunRecord], out: Path, title: str) -> Path:
    """Write ``report.md`` and the plot into ``out``; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    plot(records, out / PLOT_FILE)
    text = render(records, title) + f"\n![improvement per run, by framework]({PLOT_FILE})\n"
    path = out / REPORT_FILE
    path.write_text(text, encoding="utf-8")
    return path
