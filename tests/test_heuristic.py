"""The heuristic agent on OPE pipelines of different shapes: real diffs, journal-guided choices.

Most tests use the static catalog (no library import, fast); one slow test checks proposals against
the installed obp's real signatures.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
import unidiff

from bot.agents.base import Agent, Analysis, AnalyzerContext, CoderRequest
from bot.agents.heuristic import make_heuristic_agent
from bot.agents.heuristic.analyzer import HeuristicAnalyzer
from bot.config import Objective
from bot.errors import AgentError
from bot.ope.catalog import Catalog
from bot.ope.edit import add_import, remove_unused_import
from bot.ope.moves import survey
from bot.results import Attempt, AttemptStatus
from tests.helpers.ope_pipelines import (
    BARE_IPW,
    DR_PIPELINE,
    IPW_PIPELINE,
    LEGACY_SCOPE_PIPELINE,
    SCOPE_PIPELINE,
)
from tests.helpers.patching import apply

FIXTURES = [IPW_PIPELINE, DR_PIPELINE, SCOPE_PIPELINE, LEGACY_SCOPE_PIPELINE, BARE_IPW]


@pytest.fixture
def agent() -> Agent:
    return make_heuristic_agent(Catalog.static())


def context(
    files: dict[str, str], attempts: list[Attempt] | None = None, hints: list[str] | None = None
) -> AnalyzerContext:
    return AnalyzerContext(
        files=files, objective=Objective(metric="relative_ee"), guardrails=[], attempts=attempts or [],
        baseline={"relative_ee": 0.2}, iteration=len(attempts or []) + 1, iterations=10, hints=hints or [],
    )


def attempt(
    analysis: Analysis, diff: str, status: AttemptStatus, iteration: int, improvement: float | None = None
) -> Attempt:
    """The attempt as the journal gives it back: with the analysis's details and a failure kind."""
    return Attempt(
        run_id="run", iteration=iteration, hypothesis=analysis.hypothesis, persona=analysis.persona,
        diff=diff, status=status, improvement=improvement, details=analysis.details,
        failure_kind="not_better" if status == "no_gain" else None,
    )


def imported_names(text: str) -> set[str]:
    return {a.asname or a.name for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.ImportFrom) for a in node.names}


# --- first moves ----------------------------------------------------------------------------------


def test_plain_ipw_with_a_reward_model_moves_to_self_normalised_dr(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context(IPW_PIPELINE))

    assert reply.analysis.persona == "estimator"
    assert reply.analysis.hypothesis.startswith("In offline/evaluation.py, replace `IPW(…)` with")
    assert reply.analysis.details["target"] == "SelfNormalizedDoublyRobust"


def test_swap_keeps_the_keyword_arguments_the_new_class_accepts(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context(IPW_PIPELINE))

    assert 'SelfNormalizedDoublyRobust(estimator_name="main")' in reply.analysis.hypothesis


def test_plain_ipw_without_reward_predictions_moves_to_self_normalised_ipw(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context(BARE_IPW))

    assert reply.analysis.details["target"] == "SelfNormalizedInverseProbabilityWeighting"


def test_dr_moves_to_sndr_through_the_same_module_prefix(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context(DR_PIPELINE))

    # obp's SNDR accepts lambda_ but ignores it, so the clipping threshold is not carried over.
    expected = '`ope.SelfNormalizedDoublyRobust(estimator_name="dr")`'
    assert expected in reply.analysis.hypothesis
    assert reply.analysis.details["imports"] == "[]"


def test_a_swap_carries_a_knob_only_where_it_means_the_same() -> None:
    files = {"clip.py": "from obp.ope import InverseProbabilityWeighting as W\nE = W(lambda_=10)\n"}

    moves = survey(files, Catalog.static()).moves
    swaps = {m.target: m.edits[0].new for m in moves if m.kind == "estimator-swap"}

    assert swaps["DoublyRobust"] == "DoublyRobust(lambda_=10)"  # clipping in both
    assert swaps["SwitchDoublyRobust"] == "SwitchDoublyRobust(lambda_=50)"  # a switch threshold instead
    assert swaps["SelfNormalizedInverseProbabilityWeighting"] == "SelfNormalizedInverseProbabilityWeighting()"


def test_scope_rl_tis_moves_to_self_normalised_dr_of_the_same_action_type(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context(SCOPE_PIPELINE))

    assert reply.analysis.details["target"] == "SelfNormalizedDR"
    assert '"module": "scope_rl.ope.discrete"' in reply.analysis.details["imports"]


def test_legacy_scope_rl_names_are_answered_in_the_same_naming(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context(LEGACY_SCOPE_PIPELINE))

    assert "with `DiscreteSelfNormalizedPDIS()`" in reply.analysis.hypothesis
    assert '"module": "scope_rl.ope"' in reply.analysis.details["imports"]


def test_value_prediction_switched_off_is_no_evidence_for_dr(agent: Agent) -> None:
    source = SCOPE_PIPELINE["rl_ope/run_ope.py"]
    files = {"rl_ope/run_ope.py": source.replace("=True", "=False").replace("[DM(), TIS()]", "[TIS()]")}

    reply = agent.analyzer.analyze(context(files))

    assert reply.analysis.details["target"] == "SelfNormalizedPDIS"


# --- the coder's diffs ----------------------------------------------------------------------------


@pytest.mark.parametrize("files", FIXTURES, ids=["ipw", "dr", "scope", "legacy-scope", "bare"])
def test_diff_parses_applies_compiles_and_names_the_new_class(
    agent: Agent, files: dict[str, str], tmp_path: Path
) -> None:
    analysis = agent.analyzer.analyze(context(files)).analysis

    diff = agent.coder.write_diff(CoderRequest(analysis=analysis, files=files)).diff
    after = apply(diff, files, tmp_path)

    assert len(unidiff.PatchSet(diff).modified_files) == 1
    changed = next(p for p in files if after[p] != files[p])
    compile(after[changed], changed, "exec")
    target = analysis.details["target"]
    assert f"{target}(" in after[changed]
    assert target in imported_names(after[changed]) or f"ope.{target}(" in after[changed]


def test_diff_extends_the_existing_import_and_drops_the_unused_one(agent: Agent, tmp_path: Path) -> None:
    analysis = agent.analyzer.analyze(context(BARE_IPW)).analysis

    diff = agent.coder.write_diff(CoderRequest(analysis=analysis, files=BARE_IPW)).diff

    assert apply(diff, BARE_IPW, tmp_path)["bare.py"] == (
        "from obp.ope import SelfNormalizedInverseProbabilityWeighting\n\n"
        "ESTIMATOR = SelfNormalizedInverseProbabilityWeighting()\n"
    )


def test_coder_finds_the_call_again_after_the_file_moved(agent: Agent, tmp_path: Path) -> None:
    analysis = agent.analyzer.analyze(context(BARE_IPW)).analysis
    moved = {"bare.py": "# a new comment\n\n" + BARE_IPW["bare.py"]}

    reply = agent.coder.write_diff(CoderRequest(
        analysis=analysis, files=moved, feedback="[context_mismatch] in bare.py: hunk 1", attempt=1,
    ))

    after = apply(reply.diff, moved, tmp_path)["bare.py"]
    assert "ESTIMATOR = SelfNormalizedInverseProbabilityWeighting()" in after


def test_coder_refuses_when_the_call_is_gone(agent: Agent) -> None:
    analysis = agent.analyzer.analyze(context(BARE_IPW)).analysis
    gone = {"bare.py": "ESTIMATOR = None\n"}

    with pytest.raises(AgentError, match=r"no longer in bare\.py"):
        agent.coder.write_diff(CoderRequest(analysis=analysis, files=gone))


def test_coder_refuses_an_analysis_from_another_backend(agent: Agent) -> None:
    foreign = Analysis(hypothesis="use SNIPW", persona="estimator")

    with pytest.raises(AgentError, match="heuristic analyzer"):
        agent.coder.write_diff(CoderRequest(analysis=foreign, files=BARE_IPW))


# --- the search over iterations -------------------------------------------------------------------


def test_iterations_never_repeat_a_hypothesis_and_end_in_agent_error(agent: Agent) -> None:
    attempts: list[Attempt] = []

    with pytest.raises(AgentError, match="no untried move"):
        for i in range(1, 100):
            analysis = agent.analyzer.analyze(context(BARE_IPW, attempts)).analysis
            diff = agent.coder.write_diff(CoderRequest(analysis=analysis, files=BARE_IPW)).diff
            attempts.append(attempt(analysis, diff, "no_gain", i))

    hypotheses = [a.hypothesis for a in attempts]
    assert len(hypotheses) == len(set(hypotheses)) > 10


def test_a_family_tried_without_gain_is_explored_later(agent: Agent) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis
    tried = [attempt(first, "", "no_gain", 1)]

    second = agent.analyzer.analyze(context(IPW_PIPELINE, tried)).analysis

    # SNDR gave nothing: plain DR (same family, prior 78) drops below SNIPW (prior 80).
    assert second.details["target"] == "SelfNormalizedInverseProbabilityWeighting"


def test_improvement_in_the_files_is_tuned_on_top(agent: Agent, tmp_path: Path) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis
    diff = agent.coder.write_diff(CoderRequest(analysis=first, files=IPW_PIPELINE)).diff
    stacked = apply(diff, IPW_PIPELINE, tmp_path)
    history = [attempt(first, diff, "improved", 1, improvement=0.4)]

    nxt = agent.analyzer.analyze(context(stacked, history)).analysis

    assert nxt.details["mode"] == "exploit-stacked"
    assert nxt.details["kind"] in ("estimator-knob", "reward-swap", "reward-knob", "folds")
    assert nxt.details["kind"] != "estimator-knob" or nxt.details["target"] == "SelfNormalizedDoublyRobust"


def test_the_same_files_without_an_improvement_are_explored(agent: Agent, tmp_path: Path) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis
    diff = agent.coder.write_diff(CoderRequest(analysis=first, files=IPW_PIPELINE)).diff
    stacked = apply(diff, IPW_PIPELINE, tmp_path)

    nxt = agent.analyzer.analyze(context(stacked, [attempt(first, diff, "no_gain", 1)])).analysis

    assert (nxt.details["mode"], nxt.details["kind"]) == ("explore", "estimator-swap")


def test_improvement_not_in_the_files_is_re_proposed_with_a_knob(agent: Agent, tmp_path: Path) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis
    diff = agent.coder.write_diff(CoderRequest(analysis=first, files=IPW_PIPELINE)).diff
    history = [attempt(first, diff, "improved", 1, improvement=0.4)]

    nxt = agent.analyzer.analyze(context(IPW_PIPELINE, history)).analysis
    after = apply(agent.coder.write_diff(CoderRequest(analysis=nxt, files=IPW_PIPELINE)).diff, IPW_PIPELINE,
                  tmp_path)

    assert nxt.details["mode"] == "exploit-combined"
    assert "SelfNormalizedDoublyRobust(" in after["offline/evaluation.py"]
    assert nxt.hypothesis != first.hypothesis


def test_exploitation_fades_after_attempts_without_gain(agent: Agent, tmp_path: Path) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis
    diff = agent.coder.write_diff(CoderRequest(analysis=first, files=IPW_PIPELINE)).diff
    history = [attempt(first, diff, "improved", 1, improvement=0.4)]
    for i in range(2, 8):
        analysis = agent.analyzer.analyze(context(IPW_PIPELINE, history)).analysis
        history.append(attempt(analysis, "", "no_gain", i))

    nxt = agent.analyzer.analyze(context(IPW_PIPELINE, history)).analysis

    assert "Plus:" not in nxt.hypothesis
    assert nxt.details["kind"] == "estimator-swap" and "(lambda_=" not in nxt.hypothesis


def test_a_class_that_already_improved_is_not_swapped_back_to_from_elsewhere(
    agent: Agent, tmp_path: Path
) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis  # → SNDR
    second = agent.analyzer.analyze(context(IPW_PIPELINE, [attempt(first, "", "no_gain", 1)])).analysis
    diff = agent.coder.write_diff(CoderRequest(analysis=second, files=IPW_PIPELINE)).diff  # → SNIPW
    stacked = apply(diff, IPW_PIPELINE, tmp_path)
    history = [attempt(second, diff, "improved", 2, 0.5), attempt(first, "", "improved", 1, 0.4)]

    nxt = agent.analyzer.analyze(context(stacked, history)).analysis

    assert nxt.details["target"] != "SelfNormalizedDoublyRobust"


def test_after_a_tree_reward_model_broke_a_guardrail_the_others_are_demoted(agent: Agent) -> None:
    hint = ["a random forest or gradient boosting reward model"]
    first = agent.analyzer.analyze(context(DR_PIPELINE, hints=hint)).analysis
    refused = attempt(first, "", "no_gain", 1).model_copy(update={
        "failure_kind": "guardrail",
        "failure_reason": "guardrail broken on the search seeds: runtime_s: worse by 3282.8%",
    })

    reply = agent.analyzer.analyze(context(DR_PIPELINE, [refused], hints=hint))

    assert first.details["target"] == "HistGradientBoostingClassifier"
    assert reply.analysis.details["target"] not in ("RandomForestClassifier", "GradientBoostingClassifier")
    assert "a tree-ensemble reward model broke a guardrail" in reply.prompt


# --- hints and determinism ------------------------------------------------------------------------


def test_a_hint_boosts_the_family_it_names(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context(IPW_PIPELINE, hints=["Maybe a switch estimator helps here"]))

    assert reply.analysis.details["target"] == "SwitchDoublyRobust"


def test_a_reward_model_hint_boosts_a_reward_model_swap(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context(DR_PIPELINE, hints=["try gradient boosting for the reward model"]))

    assert reply.analysis.persona == "regression-model"
    assert reply.analysis.details["target"] == "HistGradientBoostingClassifier"
    assert "random_state=12345" in reply.analysis.hypothesis


def test_hint_text_never_reaches_the_code(agent: Agent) -> None:
    hint = "switch; __import__('os').system('echo pwned')"

    reply = agent.analyzer.analyze(context(IPW_PIPELINE, hints=[hint]))
    diff = agent.coder.write_diff(CoderRequest(analysis=reply.analysis, files=IPW_PIPELINE)).diff

    assert "pwned" not in diff and "pwned" not in reply.analysis.details["edits"]
    assert "> switch; __import__('os').system('echo pwned')" in reply.prompt


def test_same_context_gives_the_same_analysis_and_prompt() -> None:
    ctx = context(IPW_PIPELINE, hints=["self-normalized"])

    first = make_heuristic_agent(Catalog.static()).analyzer.analyze(ctx)
    second = make_heuristic_agent(Catalog.static()).analyzer.analyze(ctx)

    assert (first.analysis, first.prompt, first.response) == (second.analysis, second.prompt, second.response)


def test_prompt_lists_the_calls_found_and_the_candidates(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context(IPW_PIPELINE))

    found = '- offline/evaluation.py:17 `IPW(estimator_name="main")` (InverseProbabilityWeighting)'
    assert found in reply.prompt
    assert "| 1 | 85.0 | estimator |" in reply.prompt
    assert reply.response.startswith("Chosen (score 85.0")


# --- what the survey offers -----------------------------------------------------------------------


def test_files_without_ope_calls_raise_agent_error(agent: Agent) -> None:
    with pytest.raises(AgentError, match="0 OPE calls"):
        agent.analyzer.analyze(context({"util.py": "def f():\n    return 1\n"}))


def test_a_file_that_does_not_parse_is_skipped(agent: Agent) -> None:
    files = {**BARE_IPW, "broken.py": "def (:\n"}

    reply = agent.analyzer.analyze(context(files))

    assert reply.analysis.files == ["bare.py"]
    assert "- broken.py: skipped (not parseable" in reply.prompt


def test_mrdr_fitting_is_offered_only_when_fit_predict_gets_action_dist() -> None:
    source = IPW_PIPELINE["offline/evaluation.py"]
    with_dist = {"p.py": source.replace("n_folds=3,", "n_folds=3, action_dist=ad,")}

    plain = survey(IPW_PIPELINE, Catalog.static()).moves
    offered = survey(with_dist, Catalog.static()).moves

    assert not any("fitting_method" in m.hypothesis for m in plain)
    assert any('`fitting_method="mrdr"`' in m.hypothesis for m in offered)


def test_fold_moves_skip_the_current_value() -> None:
    moves = survey(IPW_PIPELINE, Catalog.static()).moves

    folds = [m.hypothesis for m in moves if m.kind == "folds"]

    assert [h.split("`")[1] for h in folds] == ["n_folds=5", "n_folds=2", "n_folds=10"]


def test_knob_moves_skip_the_library_default() -> None:
    moves = survey(DR_PIPELINE, Catalog.static()).moves

    knobs = {m.hypothesis.split("`")[1] for m in moves if m.kind == "reward-knob"}

    assert "C=10.0" in knobs and "C=1.0" not in knobs


# --- text edits -----------------------------------------------------------------------------------


def test_add_import_goes_after_the_last_top_level_import() -> None:
    text = '"""Doc."""\nimport os\n\nfrom a import b\n\nX = 1\n'

    assert add_import(text, "sklearn.ensemble", "RandomForestClassifier") == (
        '"""Doc."""\nimport os\n\nfrom a import b\n'
        "from sklearn.ensemble import RandomForestClassifier\n\nX = 1\n"
    )


def test_add_import_wraps_a_line_that_would_get_too_long() -> None:
    text = "from obp.ope import InverseProbabilityWeighting, OffPolicyEvaluation, RegressionModel\n"

    assert add_import(text, "obp.ope", "SelfNormalizedDoublyRobust") == (
        "from obp.ope import (\n    InverseProbabilityWeighting,\n    OffPolicyEvaluation,\n"
        "    RegressionModel,\n    SelfNormalizedDoublyRobust,\n)\n"
    )


def test_remove_unused_import_keeps_a_name_still_mentioned() -> None:
    text = 'from a import b, c\n__all__ = ["b"]\nc()\n'

    assert remove_unused_import(text, "b") == text


# --- against the installed obp --------------------------------------------------------------------


@pytest.mark.slow
def test_every_proposed_constructor_call_works_with_the_installed_libraries() -> None:
    import obp.ope
    import sklearn.ensemble
    import sklearn.linear_model

    agent = make_heuristic_agent()
    modules = (obp.ope, sklearn.ensemble, sklearn.linear_model)
    attempts: list[Attempt] = []
    built = set()
    for i in range(1, 200):
        try:
            analysis = agent.analyzer.analyze(context(IPW_PIPELINE, attempts)).analysis
        except AgentError:
            break  # every move was tried
        diff = agent.coder.write_diff(CoderRequest(analysis=analysis, files=IPW_PIPELINE)).diff
        attempts.append(attempt(analysis, diff, "no_gain", i))
        for call in new_constructor_calls(diff):
            cls = next((getattr(m, call.func.id) for m in modules if hasattr(m, call.func.id)), None)
            kwargs = {k.arg: literal_or_seed(k) for k in call.keywords}
            if cls is not None and k_args_are_literal(kwargs):
                cls(**kwargs)  # raises if a keyword or a value is not accepted by this version
                built.add(cls.__name__)

    assert {"SelfNormalizedDoublyRobust", "SwitchDoublyRobust", "DoublyRobustWithShrinkageTuning",
            "SubGaussianInverseProbabilityWeighting", "HistGradientBoostingClassifier"} <= built


def new_constructor_calls(diff: str) -> list[ast.Call]:
    """Calls of a bare name on the lines a diff adds (each added line parsed on its own)."""
    calls: list[ast.Call] = []
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            code = line[1:].strip().rstrip(",").removeprefix("return ")
            try:
                tree = ast.parse(code)
            except SyntaxError:
                continue
            calls += [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    return calls


def literal_or_seed(keyword: ast.keyword) -> object:
    try:
        return ast.literal_eval(keyword.value)
    except ValueError:
        return 0 if keyword.arg == "random_state" else NotImplemented


def k_args_are_literal(kwargs: dict[str | None, object]) -> bool:
    return all(v is not NotImplemented for v in kwargs.values())


# --- shards and rounds ----------------------------------------------------------------------------


def test_each_shard_starts_its_island_from_another_move_then_goes_best_first() -> None:
    analyzer = HeuristicAnalyzer(Catalog.static())
    start = dataclasses.replace(context(IPW_PIPELINE), run_id="run")
    ranked = [scored.move.hypothesis for scored in analyzer.rank(start).scored]

    firsts = [analyzer.analyze(dataclasses.replace(start, shard=i)).analysis for i in range(3)]

    assert [analysis.hypothesis for analysis in firsts] == ranked[:3]
    tried = attempt(firsts[1], "d", "no_gain", 2)  # of run "run": the island has begun
    later = dataclasses.replace(start, attempts=[tried], iteration=5, shard=1)
    assert analyzer.analyze(later).analysis.hypothesis == analyzer.rank(later).scored[0].move.hypothesis


def test_in_a_round_the_heuristic_proposes_what_the_round_has_not(agent: Agent) -> None:
    first = agent.analyzer.analyze(context(IPW_PIPELINE)).analysis.hypothesis

    again = agent.analyzer.analyze(dataclasses.replace(context(IPW_PIPELINE), proposed=[first]))

    assert again.analysis.hypothesis != first
