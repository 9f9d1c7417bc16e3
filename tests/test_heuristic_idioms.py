"""The heuristic on other people's idioms: swaps keep the result key the code reads, and a crash is
read (the key it names is kept from then on; the family of change that broke is tried last)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.agents.base import AnalyzerContext, CoderRequest
from bot.agents.heuristic import HeuristicAnalyzer, HeuristicCoder
from bot.config import Objective
from bot.crash import Crash, Frame
from bot.ope.catalog import Catalog
from bot.ope.moves import Change, Move
from bot.results import Attempt, IterationFailure
from tests.helpers.patching import apply
from tests.helpers.stranger_pipelines import (
    OBP_COMPUTED_READ,
    OBP_HARNESS_READS,
    OBP_SELECT,
    OBP_YAML_NAMES,
    SCOPE_EDITABLE_READS,
    SCOPE_HARNESS_READS,
    Files,
)

ANALYZER = HeuristicAnalyzer(Catalog.static())


def context(pipeline: tuple[Files, Files], attempts: list[Attempt] | None = None) -> AnalyzerContext:
    files, readonly = pipeline
    return AnalyzerContext(
        files=files, objective=Objective(metric="mse"), guardrails=[], attempts=attempts or [],
        baseline={"mse": 0.2}, iteration=len(attempts or []) + 1, iterations=8, other_files=readonly,
    )


SWAPS = ("estimator-swap", "add-model")


def swaps(pipeline: tuple[Files, Files], attempts: list[Attempt] | None = None) -> list[Move]:
    """The estimator swaps on offer (alone, or with the reward model they need), best first."""
    return [s.move for s in ANALYZER.rank(context(pipeline, attempts)).scored if s.move.kind in SWAPS]


def swapped(move: Move) -> Change:
    return next(c for c in move.changes if c.kind == "estimator-swap")


def applied(move: Move, files: Files, tmp_path: Path) -> Files:
    """The files after the heuristic Coder's diff of ``move``, applied by the real patch engine."""
    analysis = ANALYZER.analyze(context((files, {}))).analysis.model_copy(
        update={"details": {**move.details(), "kind": move.kind}, "plan": move.plan})
    diff = HeuristicCoder().write_diff(CoderRequest(analysis=analysis, files=files)).diff
    return apply(diff, files, tmp_path, editable=("**",))


def names_passed(text: str, cls: str) -> list[str | None]:
    """The ``estimator_name`` each ``cls(...)`` call in ``text`` passes (None: not passed)."""
    out: list[str | None] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == cls:
            name = next((k.value for k in node.keywords if k.arg == "estimator_name"), None)
            out.append(ast.literal_eval(name) if name is not None else None)
    return out


def reported_as(text: str, cls: str) -> str | None:
    """The name a ``Named<cls>`` subclass defined in ``text`` gives its estimate, if it is constructed."""
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == f"Named{cls}" \
                and [ast.unparse(b) for b in node.bases] == [cls] and names_passed(text, node.name) == [None]:
            value = next(s.value for s in node.body if isinstance(s, ast.Assign)
                         and ast.unparse(s.targets[0]) == "estimator_name")
            return str(ast.literal_eval(value))
    return None


def key_after(text: str, move: Move) -> str | None:
    """The key the swapped-in estimator reports under in ``text``: passed, by subclass, or its default."""
    passed = names_passed(text, move.target)
    if passed == [None] and move.spec is not None:
        return move.spec.result_key
    return passed[0] if passed else reported_as(text, move.target)


def crashed(move: Move, crash: Crash, iteration: int = 1, kind: IterationFailure = "crash") -> Attempt:
    return Attempt(run_id="r", iteration=iteration, hypothesis=move.hypothesis, persona=move.persona,
                   status="failed", failure_kind=kind, failure_reason=f"{kind}: seed 0: exit code 1",
                   crash=crash, details={**move.details(), "kind": move.kind})


# --- the key a protected harness reads -----------------------------------------------------------


def test_every_swap_keeps_the_key_a_protected_harness_reads(tmp_path: Path) -> None:
    moves = swaps(OBP_HARNESS_READS)
    files = OBP_HARNESS_READS[0]

    assert moves, "the pipeline allows swaps"
    for i, move in enumerate(moves):
        after = applied(move, files, tmp_path / str(i))["bandit/estimate.py"]
        assert swapped(move).result_key == "ipw", move.hypothesis
        assert key_after(after, move) == "ipw", move.hypothesis
        if move.target != "InverseProbabilityWeightingTuning":  # keyed "ipw" by its class already
            assert "harness/run_eval.py:11 (`print(json.dumps" in move.plan, move.plan
    by_target = {m.target: m for m in moves}
    assert "passes `estimator_name=\"ipw\"`" in by_target["SelfNormalizedInverseProbabilityWeighting"].plan
    assert "a subclass `NamedSubGaussianInverseProbabilityWeightingTuning` reports it under the result key " \
           "'ipw'" in by_target["SubGaussianInverseProbabilityWeightingTuning"].plan


def test_without_a_read_of_the_key_a_swap_changes_nothing_else() -> None:
    files, _ = OBP_HARNESS_READS

    moves = swaps((files, {}))

    assert all("estimator_name" not in m.edits[0].new for m in moves)
    assert all(len(m.edits) == 1 for m in moves if m.kind == "estimator-swap")


def test_a_name_in_a_yaml_file_is_kept_and_renamed_only_where_the_class_takes_no_name(tmp_path: Path) -> None:
    moves = {m.target: m for m in swaps(OBP_YAML_NAMES)}
    files = OBP_YAML_NAMES[0]

    sndr = applied(moves["SelfNormalizedDoublyRobust"], files, tmp_path / "sndr")
    tuning = applied(moves["SubGaussianInverseProbabilityWeightingTuning"], files, tmp_path / "tuning")

    assert names_passed(sndr["ope/pipeline.py"], "SelfNormalizedDoublyRobust") == ["ipw"]
    assert sndr["ope/settings.yaml"] == files["ope/settings.yaml"]
    assert "report: sg-ipw\n" in tuning["ope/settings.yaml"]
    assert "ope/settings.yaml:2 (`report: ipw`)" in moves["SubGaussianInverseProbabilityWeightingTuning"].plan


def test_a_name_in_a_config_module_is_kept(tmp_path: Path) -> None:
    moves = swaps(OBP_SELECT)

    assert {m.target for m in moves} >= {"SelfNormalizedDoublyRobust", "DoublyRobust"}
    sndr = {m.call.callee: m for m in moves if m.target == "SelfNormalizedDoublyRobust" and m.call}
    for callee, key, line in (("InverseProbabilityWeighting", "ipw", 1), ("DirectMethod", "dm", 2)):
        after = applied(sndr[callee], OBP_SELECT[0], tmp_path / key)["study/estimators.py"]
        assert names_passed(after, "SelfNormalizedDoublyRobust") == [key]
        assert f"study/config.py:{line}" in sndr[callee].plan


def test_scope_rl_reads_in_editable_code_are_renamed_or_the_name_is_passed(tmp_path: Path) -> None:
    moves = {m.target: m for m in swaps(SCOPE_EDITABLE_READS)}
    files = SCOPE_EDITABLE_READS[0]

    snpdis = applied(moves["SelfNormalizedPDIS"], files, tmp_path / "snpdis")["rl/offline.py"]
    dm = applied(moves["DirectMethod"], files, tmp_path / "dm")["rl/offline.py"]

    assert 'estimates[policy_name]["snpdis"]' in snpdis and '"tis"' not in snpdis
    assert names_passed(dm, "DirectMethod") == ["tis"] and 'estimates[policy_name]["tis"]' in dm


def test_scope_rl_swaps_keep_a_protected_read_through_a_named_subclass(tmp_path: Path) -> None:
    moves = {m.target: m for m in swaps(SCOPE_HARNESS_READS)}
    files = SCOPE_HARNESS_READS[0]

    snpdis = applied(moves["SelfNormalizedPDIS"], files, tmp_path / "snpdis")["rl/offline.py"]
    dm = applied(moves["DirectMethod"], files, tmp_path / "dm")["rl/offline.py"]

    assert reported_as(snpdis, "SelfNormalizedPDIS") == "tis"
    assert "ope_estimators=[NamedSelfNormalizedPDIS()]" in snpdis
    assert "from scope_rl.ope.discrete import SelfNormalizedPDIS" in snpdis
    assert snpdis.index("import SelfNormalizedPDIS") < snpdis.index("class NamedSelfNormalizedPDIS")
    assert names_passed(dm, "DirectMethod") == ["tis"]
    assert "benchmark.py:4" in moves["SelfNormalizedPDIS"].plan


# --- a crash, read ----------------------------------------------------------------------------------


def test_a_key_error_teaches_the_key_and_does_not_blame_the_swaps() -> None:
    first = swaps(OBP_COMPUTED_READ)[0]
    assert "estimator_name" not in first.edits[0].new, "nothing in the files says 'ipw'"
    crash = Crash(exception="KeyError", message="'ipw'",
                  frames=[Frame(file="harness/run_eval.py", line=6, function="report")])

    ranking = ANALYZER.rank(context(OBP_COMPUTED_READ, [crashed(first, crash)]))

    best = ranking.scored[0].move
    assert best.kind in SWAPS and 'estimator_name="ipw"' in best.edits[0].new
    assert "crashed without (KeyError)" in best.plan
    assert ranking.broken == ()


def test_a_crash_sends_the_next_iteration_to_another_family_with_the_crash_in_its_prompt() -> None:
    first = swaps(OBP_HARNESS_READS)[0]
    crash = Crash(exception="RuntimeError", message="estimator not on the approved list",
                  frames=[Frame(file="harness/run_eval.py", line=9, function="main")])

    reply = ANALYZER.analyze(context(OBP_HARNESS_READS, [crashed(first, crash)]))
    ranking = ANALYZER.rank(context(OBP_HARNESS_READS, [crashed(first, crash)]))

    assert reply.analysis.details["kind"] != "estimator-swap"
    assert "RuntimeError: estimator not on the approved list" in reply.prompt
    demoted = [s for s in ranking.scored if s.move.kind == "estimator-swap"]
    assert demoted and all(s.score < ranking.scored[0].score for s in demoted)
    assert any("estimator-swap broke the evaluation (iteration 1: RuntimeError" in note
               for note in demoted[0].notes)


@pytest.mark.parametrize("kind", ["timeout", "non_finite"])
def test_other_ways_of_breaking_the_evaluation_count_too(kind: IterationFailure) -> None:
    first = swaps(OBP_HARNESS_READS)[0]
    attempt = crashed(first, Crash(exception="x"), kind=kind).model_copy(update={"crash": None})

    ranking = ANALYZER.rank(context(OBP_HARNESS_READS, [attempt]))

    assert ranking.scored[0].move.kind != "estimator-swap"
    assert ranking.broken == (("estimator-swap", f"iteration 1: {kind}"),)


def test_the_broken_family_is_tried_again_once_nothing_else_is_left() -> None:
    files = {"bare.py": "from obp.ope import InverseProbabilityWeighting\n\n"
                        "ESTIMATOR = InverseProbabilityWeighting()\n"}
    pipeline = (files, {})
    ranked = [s.move for s in ANALYZER.rank(context(pipeline)).scored]
    crash = Crash(exception="RuntimeError", message="no")
    attempts = [crashed(ranked[0], crash)]
    attempts += [crashed(m, crash, i, "not_better").model_copy(update={"status": "no_gain", "crash": None})
                 for i, m in enumerate((m for m in ranked if m.kind != "estimator-swap"), 2)]

    best = ANALYZER.rank(context(pipeline, attempts)).scored[0].move

    assert best.kind == "estimator-swap"
