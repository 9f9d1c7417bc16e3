"""The heuristic's memory: it reads what was tried from the journal's details and failure kinds, and
falls back to the hypothesis text only for attempts that have none (old journals, other agents)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.agents.base import Agent, Analysis, CoderRequest
from bot.agents.heuristic import HeuristicAnalyzer, make_heuristic_agent
from bot.agents.heuristic.legacy import read_hypothesis
from bot.agents.heuristic.memory import recall
from bot.ope.catalog import Catalog
from bot.ope.knobs import Setting
from bot.ope.moves import survey
from bot.ope.proposal import decode_changes
from bot.results import Attempt, AttemptStatus
from tests.helpers.heuristic_scenarios import RUNTIME, context, recorded
from tests.helpers.ope_pipelines import DM_ONLY, DR_PIPELINE, IPW_PIPELINE
from tests.helpers.patching import apply


@pytest.fixture
def agent() -> Agent:
    return make_heuristic_agent(Catalog.static())


def old_style(analysis: Analysis, status: AttemptStatus = "no_gain", **update: object) -> Attempt:
    """An attempt as a journal from before details were recorded holds it: hypothesis text only."""
    return Attempt(run_id="old", iteration=1, hypothesis=analysis.hypothesis, persona=analysis.persona,
                   status=status).model_copy(update=update)


def candidates(agent: Agent, attempts: list[Attempt], files: dict[str, str] = IPW_PIPELINE) -> list[str]:
    assert isinstance(agent.analyzer, HeuristicAnalyzer)
    return [s.move.hypothesis for s in agent.analyzer.rank(context(files, attempts)).scored]


# --- structured details -----------------------------------------------------------------------------


def test_details_name_the_move_and_what_it_changes_as_data(agent: Agent) -> None:
    details = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis.details

    changes = json.loads(details["changes"])
    assert (details["kind"], details["target"], details["family"]) == (
        "estimator-swap", "SelfNormalizedDoublyRobust", "dr")
    assert changes == [{
        "kind": "estimator-swap", "file": "offline/evaluation.py", "call": "`IPW(…)`",
        "target": "SelfNormalizedDoublyRobust", "family": "dr", "knob": "", "keyword": "",
        "was": "", "value": 'SelfNormalizedDoublyRobust(estimator_name="main")', "result_key": "main",
    }]
    assert len(details["move"]) == 16


def test_a_move_has_the_same_id_in_every_survey_and_another_value_another_id() -> None:
    first = survey(IPW_PIPELINE, Catalog.static()).moves
    again = survey({"moved.py": "# x\n", **IPW_PIPELINE}, Catalog.static()).moves

    assert [m.id for m in first] == [m.id for m in again if m.edits[0].file == "offline/evaluation.py"]
    assert len({m.id for m in first}) == len(first)


def test_a_combined_move_records_both_changes(agent: Agent) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis
    won = [recorded(first, "", "improved", 1, improvement=0.4)]

    combined = agent.analyzer.analyze(context(IPW_PIPELINE, won)).analysis

    changes = decode_changes(combined.details)
    assert combined.details["mode"] == "exploit-combined" and changes is not None
    assert [(c.kind, c.target) for c in changes] == [
        ("estimator-swap", "SelfNormalizedDoublyRobust"), ("reward-swap", "HistGradientBoostingClassifier")]
    assert recall(recorded(combined, "", "no_gain", 2)).swapped == {
        "SelfNormalizedDoublyRobust", "HistGradientBoostingClassifier"}


def test_a_move_tried_is_known_by_its_id_whatever_its_hypothesis_says(agent: Agent) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis
    reworded = recorded(first, "", "no_gain", 1).model_copy(update={"hypothesis": "Use SNDR instead."})

    nxt = agent.analyzer.analyze(context(IPW_PIPELINE, [reworded])).analysis

    assert first.hypothesis not in candidates(agent, [reworded])
    # The class tried without gain comes from the details, so its family waits (see test_heuristic).
    assert nxt.details["target"] == "SelfNormalizedInverseProbabilityWeighting"


def test_prose_of_an_attempt_with_details_is_never_parsed(agent: Agent) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis
    misleading = recorded(first, "", "no_gain", 1).model_copy(
        update={"hypothesis": "replace it with `SelfNormalizedInverseProbabilityWeighting()`"})

    memory = recall(misleading)

    assert memory.swapped == {"SelfNormalizedDoublyRobust"} and memory.move == first.details["move"]


def test_a_guardrail_is_read_from_the_failure_kind_not_the_reason(agent: Agent) -> None:
    analysis = agent.analyzer.analyze(context(DR_PIPELINE)).analysis
    broke = recorded(analysis, "", "no_gain", 1, failure_kind="guardrail", failure_reason="runtime_s: +300%")
    worse = recorded(analysis, "", "no_gain", 1, failure_reason="not better; the guardrail held")

    assert recall(broke).refused and not recall(worse).refused


# --- the fallback for attempts without details --------------------------------------------------------


def test_an_old_attempt_with_only_its_hypothesis_is_still_recognised(agent: Agent) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis

    reply = agent.analyzer.analyze(context(IPW_PIPELINE, [old_style(first)]))

    memory = recall(old_style(first))
    assert memory.move is None and memory.swapped == {"SelfNormalizedDoublyRobust"}
    assert first.hypothesis not in candidates(agent, [old_style(first)])
    assert reply.analysis.details["target"] == "SelfNormalizedInverseProbabilityWeighting"
    assert "family dr tried without gain" in reply.prompt


def test_an_old_guardrail_failure_is_read_from_its_reason(agent: Agent) -> None:
    hint = ["a random forest or gradient boosting reward model"]
    first = agent.analyzer.analyze(context(DR_PIPELINE, hints=hint)).analysis
    refused = old_style(first, failure_reason="guardrail broken on the search seeds: runtime_s: +3282.8%")

    reply = agent.analyzer.analyze(context(DR_PIPELINE, [refused], hints=hint))

    assert recall(refused).refused
    assert "a tree-ensemble reward model broke a guardrail" in reply.prompt


def test_an_old_improvement_is_still_exploited(agent: Agent, tmp_path: Path) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis
    diff = agent.coder.write_diff(CoderRequest(analysis=first, files=IPW_PIPELINE)).diff
    won = old_style(first, "improved", diff=diff, improvement=0.4)

    combined = agent.analyzer.analyze(context(IPW_PIPELINE, [won])).analysis
    stacked = agent.analyzer.analyze(context(apply(diff, IPW_PIPELINE, tmp_path), [won])).analysis

    assert combined.details["mode"] == "exploit-combined" and "Plus:" in combined.hypothesis
    assert stacked.details["mode"] == "exploit-stacked"


def test_old_fqe_steps_raised_and_stacked_still_spend_the_runtime_budget(agent: Agent) -> None:
    files = {"ope/run.py": DM_ONLY}
    first = agent.analyzer.analyze(context(files, guardrails=RUNTIME)).analysis  # 500 → 1000 steps
    stacked = {"ope/run.py": DM_ONLY.replace("n_steps=500", "n_steps=1000")}

    won = old_style(first, "improved", improvement=0.15)

    reply = agent.analyzer.analyze(context(stacked, [won], RUNTIME))

    row = next(line for line in reply.prompt.splitlines() if "`n_steps=2000`" in line)
    assert "~4x runtime, over the ope_seconds guardrail" in row


def test_the_fallback_reads_each_wording_the_heuristic_has_used() -> None:
    swap = ("In a.py, replace the 2nd `IPW(…)` with `ope.SelfNormalizedDoublyRobust(lambda_=5)` "
            "(SelfNormalizedDoublyRobust): DR with self-normalised weights.")
    alias = "In a.py, replace `DM(…)` with `SNPDIS()` (SelfNormalizedPDIS): stable."
    knob = ("In a.py, set `n_steps=2000` on `prep.obtain_whole_inputs(…)` (was default 10000): FQE steps "
            "Plus: In a.py, set `lambda_=50` on `IPW(…)` (InverseProbabilityWeighting) (was 100): clip")
    constant = ("In a.py, set `FQE_STEPS = 1000` (passed as `n_steps` to `prep.obtain_whole_inputs(…)`) "
                "(was 500): x")

    assert read_hypothesis(swap)[0] == {"SelfNormalizedDoublyRobust"}
    assert read_hypothesis(alias)[0] == {"SelfNormalizedPDIS"}
    assert read_hypothesis(knob)[1] == {"obtain_whole_inputs", "InverseProbabilityWeighting"}
    assert read_hypothesis(knob)[2] == (
        Setting("n_steps", "`prep.obtain_whole_inputs(…)`", "10000"),
        Setting("lambda_", "`IPW(…)` (InverseProbabilityWeighting)", "100"),
    )
    assert read_hypothesis(constant)[2] == (Setting("n_steps", "`prep.obtain_whole_inputs(…)`", "500"),)


def test_structured_and_old_attempts_of_one_move_are_remembered_alike(agent: Agent) -> None:
    files = {"ope/run.py": DM_ONLY}
    first = agent.analyzer.analyze(context(files, guardrails=RUNTIME)).analysis

    new, old = recall(recorded(first, "", "improved", 1, 0.1)), recall(old_style(first, "improved"))

    assert (new.swapped, new.settings) == (old.swapped, old.settings)
    assert "obtain_whole_inputs" in new.tuned & old.tuned
