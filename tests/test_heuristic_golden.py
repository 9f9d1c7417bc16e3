"""Golden snapshots of the heuristic's move ranking, one file per fixture pipeline.

Each file under ``tests/golden/heuristic/`` lists, for several journal situations, every candidate
move best first (score, kind, target, hypothesis, notes): a change of a weight (``bot.ope.weights``),
a prior or the journal logic shows in review as a diff of these files. After an intended change,
regenerate them and review the diff:

    GROWTHHACKER_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q -n 0 tests/test_heuristic_golden.py

The static catalog is used, so the snapshots do not depend on the installed library versions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.agents.base import AnalyzerContext
from bot.agents.heuristic import HeuristicAnalyzer, make_heuristic_agent
from bot.agents.heuristic.scoring import Scored
from bot.ope.catalog import Catalog
from tests.helpers.heuristic_scenarios import PIPELINES, Situation, render, situations

GOLDEN = Path(__file__).parent / "golden" / "heuristic"
UPDATE = os.environ.get("GROWTHHACKER_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Situation]]:
    return situations(make_heuristic_agent(Catalog.static()), tmp_path_factory.mktemp("situations"))


def ranked(context: AnalyzerContext) -> tuple[str, Sequence[Scored]]:
    ranking = HeuristicAnalyzer(Catalog.static()).rank(context)
    return ranking.mode, ranking.scored


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_move_ranking_matches_the_golden_snapshot(pipeline: str, cases: dict[str, list[Situation]]) -> None:
    path = GOLDEN / f"{pipeline}.txt"

    text = render(pipeline, ranked, cases[pipeline])

    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with GROWTHHACKER_UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8"), (
        f"the ranking of {pipeline} changed; if intended, regenerate with GROWTHHACKER_UPDATE_GOLDEN=1 "
        "and review the diff of tests/golden/heuristic/"
    )


def test_every_pipeline_has_situations_and_every_snapshot_a_pipeline(
    cases: dict[str, list[Situation]],
) -> None:
    assert set(cases) == set(PIPELINES)
    assert {p.stem for p in GOLDEN.glob("*.txt")} == set(PIPELINES)
