"""The GrowthHacker study's published figures, shown beside ours for reference (never computed here).

Source: Wu et al., "GrowthHacker: Automated Off-Policy Evaluation Optimization Using Code-Modifying
LLM Agents", arXiv:2511.00802 — v1 (Nov 2025, 504 runs on OBP and Scope-RL) and v2 (Jun 2026).
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "arXiv:2511.00802"


@dataclass(frozen=True)
class StudyFigure:
    """One framework's published figures; ``None`` where the paper's summary gives no number.

    Rates and improvements are fractions (0.45 = 45%); improvements are among positive runs.
    """

    framework: str
    version: str
    reliability: tuple[float, float] | None = None
    positive_rate: float | None = None
    mean_improvement: float | None = None
    median_improvement: float | None = None
    note: str = ""


STUDY: tuple[StudyFigure, ...] = (
    StudyFigure("two_agent", "v1", reliability=(1.0, 1.0), positive_rate=0.45, mean_improvement=1.067),
    StudyFigure("CrewAI", "v1", positive_rate=0.45, mean_improvement=0.317),
    StudyFigure("AutoGen", "v1", positive_rate=0.34),
    StudyFigure("two_agent", "v2", reliability=(0.981, 1.0), positive_rate=0.78, median_improvement=0.044),
    StudyFigure("CrewAI", "v2", mean_improvement=0.379, note="highest mean; zero extreme-value failures"),
    StudyFigure("AutoGen", "v2", positive_rate=0.65),
    StudyFigure("default", "v2", positive_rate=0.65, note="single LLM call"),
)


def figures_for(framework: str) -> list[StudyFigure]:
    """The published figures of ``framework`` (our ``two_agent`` and ``default`` have counterparts)."""
    return [f for f in STUDY if f.framework == framework]
