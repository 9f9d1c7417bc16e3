"""scope-rl pipeline knobs: FQE steps/folds, kernel bandwidth and reward-after-done as heuristic moves.

Small synthetic pipelines, the static catalog (no library import) and the real patch engine; one slow
test checks the static call signatures against the installed scope-rl.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.agents.base import Agent, Analysis, AnalyzerContext, CoderRequest
from bot.agents.heuristic import make_heuristic_agent
from bot.config import Guardrail, Objective
from bot.errors import AgentError
from bot.ope.catalog import Catalog
from bot.ope.edit import merge_replacements
from bot.ope.knobs import runtime_budget
from bot.ope.moves import Move, combine, survey
from bot.ope.pipeline import PIPELINE_CALLS
from bot.results import Attempt, AttemptStatus
from tests.helpers.ope_pipelines import CONTINUOUS_PDIS, DISCRETE_TIS, DM_ONLY
from tests.helpers.patching import apply

RUNTIME = [Guardrail(metric="ope_seconds", max_regression=2.0)]


@pytest.fixture
def agent() -> Agent:
    return make_heuristic_agent(Catalog.static())


def context(
    files: dict[str, str], attempts: list[Attempt] | None = None, guardrails: list[Guardrail] | None = None,
    hints: list[str] | None = None,
) -> AnalyzerContext:
    return AnalyzerContext(
        files=files, objective=Objective(metric="relative_error"), guardrails=guardrails or [],
        attempts=attempts or [], baseline={"relative_error": 0.7}, iteration=len(attempts or []) + 1,
        iterations=8, hints=hints or [],
    )


def attempt(
    analysis: Analysis, diff: str, status: AttemptStatus, iteration: int, gain: float | None = None
) -> Attempt:
    """The attempt as the journal gives it back: with the analysis's details and a failure kind."""
    return Attempt(run_id="run", iteration=iteration, hypothesis=analysis.hypothesis,
                   persona=analysis.persona, diff=diff, status=status, improvement=gain,
                   details=analysis.details, failure_kind="not_better" if status == "no_gain" else None)


def as_analysis(move: Move) -> Analysis:
    """The Analysis the heuristic Analyzer would write for ``move``."""
    return Analysis(hypothesis=move.hypothesis, persona=move.persona, details=move.details())


def changed_lines(before: str, after: str) -> list[str]:
    return [line.strip() for line in after.splitlines() if line not in before.splitlines()]


def knob_moves(files: dict[str, str], knob: str) -> list[Move]:
    return [m for m in survey(files, Catalog.static()).moves if m.knob == knob]


def keyword_value(text: str, call: str, keyword: str) -> object:
    """The literal value of ``keyword`` in the (only) call of ``call`` in ``text``."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(call):
            return next(ast.literal_eval(k.value) for k in node.keywords if k.arg == keyword)
    raise AssertionError(f"no call of {call}")


# --- FQE training steps ---------------------------------------------------------------------------


def test_direct_method_alone_first_trains_fqe_longer_within_the_runtime_guardrail(
    agent: Agent, tmp_path: Path
) -> None:
    files = {"ope/run.py": DM_ONLY}

    analysis = agent.analyzer.analyze(context(files, guardrails=RUNTIME)).analysis
    diff = agent.coder.write_diff(CoderRequest(analysis=analysis, files=files)).diff

    # +200% allowed on the pipeline's time: 2x the FQE steps fits, 3x and 4x would likely break it.
    assert (analysis.persona, analysis.details["kind"]) == ("regression-model", "value-model")
    assert changed_lines(DM_ONLY, apply(diff, files, tmp_path)["ope/run.py"]) == ["n_steps=1000,"]


def test_without_a_runtime_guardrail_fqe_gets_four_times_the_steps(agent: Agent) -> None:
    analysis = agent.analyzer.analyze(context({"ope/run.py": DM_ONLY})).analysis

    assert "`n_steps=2000`" in analysis.hypothesis


def test_fqe_moves_over_the_runtime_budget_are_demoted_and_say_why(agent: Agent) -> None:
    reply = agent.analyzer.analyze(context({"ope/run.py": DM_ONLY}, guardrails=RUNTIME))

    row = next(line for line in reply.prompt.splitlines() if "`n_steps=2000`" in line)
    assert "~4x runtime, over the ope_seconds guardrail (+200%)" in row
    assert "Runtime budget: moves expected to cost more than 2.2x are demoted" in reply.prompt


def test_fqe_steps_are_not_tuned_where_the_call_fits_no_fqe() -> None:
    off = DM_ONLY.replace("require_value_prediction=True", "require_value_prediction=False")

    assert knob_moves({"run.py": off}, "fqe-steps") == []
    assert knob_moves({"run.py": CONTINUOUS_PDIS}, "fqe-steps") == []


def test_fqe_steps_passed_through_a_module_constant_edit_the_constant(agent: Agent, tmp_path: Path) -> None:
    source = "FQE_STEPS = 500\n" + DM_ONLY.replace("n_steps=500", "n_steps=FQE_STEPS")
    files = {"run.py": source}

    analysis = agent.analyzer.analyze(context(files, guardrails=RUNTIME)).analysis
    after = apply(agent.coder.write_diff(CoderRequest(analysis=analysis, files=files)).diff, files, tmp_path)

    expected = "set `FQE_STEPS = 1000` (passed as `n_steps` to `prep.obtain_whole_inputs(…)`)"
    assert expected in analysis.hypothesis
    assert changed_lines(source, after["run.py"]) == ["FQE_STEPS = 1000"]


def test_fqe_steps_computed_at_run_time_are_left_alone() -> None:
    source = DM_ONLY.replace("n_steps=500", "n_steps=int(seed) + 500")

    assert knob_moves({"run.py": source}, "fqe-steps") == []


def test_a_chained_create_ope_input_call_is_found() -> None:
    source = DM_ONLY.replace("prep.obtain_whole_inputs(", "CreateOPEInput(env=None).obtain_whole_inputs(")

    moves = knob_moves({"run.py": source}, "fqe-steps")

    assert [m.edits[0].new.count("n_steps=") for m in moves] == [1, 1, 1, 1]
    assert "on `CreateOPEInput(env=None).obtain_whole_inputs(…)`" in moves[0].hypothesis


def test_cross_fitting_folds_cost_one_fqe_fit_each() -> None:
    folds = knob_moves({"run.py": DM_ONLY}, "fqe-folds")

    assert [(m.edits[0].new.count("k_fold="), m.cost) for m in folds] == [(1, 2.0), (1, 3.0), (1, 5.0)]


# --- kernel bandwidth and reward after done -------------------------------------------------------


def test_continuous_importance_sampling_gets_a_wider_float_bandwidth(tmp_path: Path) -> None:
    files = {"cont.py": CONTINUOUS_PDIS}
    move = knob_moves(files, "bandwidth")[0]
    agent = make_heuristic_agent(Catalog.static())
    request = CoderRequest(analysis=as_analysis(move), files=files)

    after = apply(agent.coder.write_diff(request).diff, files, tmp_path)

    # scope-rl type-checks the bandwidth as a float: an int literal would raise there.
    assert keyword_value(after["cont.py"], "OPE", "bandwidth") == 5.0
    assert "bandwidth=5.0" in after["cont.py"]


def test_discrete_pipelines_get_no_bandwidth_moves() -> None:
    assert knob_moves({"disc.py": DISCRETE_TIS}, "bandwidth") == []


def test_a_positional_bandwidth_is_changed_in_place() -> None:
    source = CONTINUOUS_PDIS.replace(
        "OPE(logged_dataset=logged_dataset, ope_estimators=[PDIS()])", "OPE(logged_dataset, [PDIS()], 0, 2.0)"
    )

    move = knob_moves({"cont.py": source}, "bandwidth")[0]

    assert move.edits[0].new == "OPE(logged_dataset, [PDIS()], 0, 10.0)"
    assert "(was 2.0)" in move.hypothesis


def test_reward_after_done_is_switched_off_for_reward_weighting_estimators_only() -> None:
    ipw = knob_moves({"disc.py": DISCRETE_TIS}, "reward-after-done")
    dm = knob_moves({"run.py": DM_ONLY}, "reward-after-done")
    switched = DISCRETE_TIS.replace("[PDIS()])", "[PDIS()], disable_reward_after_done=False)")
    off = knob_moves({"disc.py": switched}, "reward-after-done")

    assert [m.edits[0].new.endswith("disable_reward_after_done=False)") for m in ipw] == [True]
    assert ipw[0].score > dm[0].score
    assert off == []


def test_obp_off_policy_evaluation_is_not_a_scope_rl_pipeline_call() -> None:
    source = "from obp.ope import OffPolicyEvaluation, InverseProbabilityWeighting\n" \
             "ope = OffPolicyEvaluation(bandit_feedback={}, ope_estimators=[InverseProbabilityWeighting()])\n"

    assert [m for m in survey({"b.py": source}, Catalog.static()).moves if m.knob] == []


# --- the journal ----------------------------------------------------------------------------------


def test_after_a_swap_improved_its_relevant_knob_goes_on_top(agent: Agent, tmp_path: Path) -> None:
    files = {"disc.py": DISCRETE_TIS}
    first = agent.analyzer.analyze(context(files)).analysis
    diff = agent.coder.write_diff(CoderRequest(analysis=first, files=files)).diff
    history = [attempt(first, diff, "improved", 1, gain=0.9)]

    nxt = agent.analyzer.analyze(context(files, history)).analysis
    after = apply(agent.coder.write_diff(CoderRequest(analysis=nxt, files=files)).diff, files, tmp_path)

    assert nxt.details["mode"] == "exploit-combined"
    assert keyword_value(after["disc.py"], "OPE", "disable_reward_after_done") is False
    assert f"{first.details['target']}()" in after["disc.py"]


def test_a_knob_that_does_not_act_on_the_new_estimator_is_not_combined(agent: Agent) -> None:
    files = {"run.py": DM_ONLY}
    first = agent.analyzer.analyze(context(files, guardrails=RUNTIME)).analysis  # more FQE steps
    history = [attempt(first, "", "improved", 1, gain=0.1)]

    reply = agent.analyzer.analyze(context(files, history, guardrails=RUNTIME))

    # DM ignores the bandwidth and the reward switch: neither is stacked on the FQE change.
    combined = [line for line in reply.prompt.splitlines() if "Plus:" in line]
    assert combined and not any("bandwidth" in line or "disable_reward" in line for line in combined)


def test_pipeline_knob_moves_are_never_repeated_and_every_diff_applies(agent: Agent, tmp_path: Path) -> None:
    files = {"cont.py": CONTINUOUS_PDIS}
    attempts: list[Attempt] = []

    with pytest.raises(AgentError, match="no untried move"):
        for i in range(1, 60):
            analysis = agent.analyzer.analyze(context(files, attempts, guardrails=RUNTIME)).analysis
            diff = agent.coder.write_diff(CoderRequest(analysis=analysis, files=files)).diff
            compile(apply(diff, files, tmp_path / str(i))["cont.py"], "cont.py", "exec")
            attempts.append(attempt(analysis, diff, "no_gain", i))

    hypotheses = [a.hypothesis for a in attempts]
    assert len(hypotheses) == len(set(hypotheses))
    assert sum("bandwidth=" in h for h in hypotheses) == 4


def test_a_hint_naming_the_bandwidth_boosts_it(agent: Agent) -> None:
    hints = ["tune the kernel bandwidth"]

    analysis = agent.analyzer.analyze(context({"cont.py": CONTINUOUS_PDIS}, hints=hints)).analysis

    assert analysis.details["kind"] == "kernel"


# --- combining edits of one call ------------------------------------------------------------------


def test_two_knobs_of_one_call_combine_into_one_edit() -> None:
    moves = survey({"run.py": DM_ONLY}, Catalog.static()).moves
    steps = next(m for m in moves if m.knob == "fqe-steps")
    folds = next(m for m in moves if m.knob == "fqe-folds")

    both = combine(steps, folds)

    assert both is not None and len(both.edits) == 1
    assert "n_steps=1000" in both.edits[0].new and "k_fold=2" in both.edits[0].new
    assert both.cost == steps.cost * folds.cost


def test_two_values_of_one_knob_do_not_combine() -> None:
    steps = knob_moves({"run.py": DM_ONLY}, "fqe-steps")

    assert combine(steps[0], steps[1]) is None


def test_merge_replacements_keeps_an_estimator_swap_inside_the_call_it_tunes() -> None:
    call = "OPE(logged_dataset=d, ope_estimators=[DM()])"

    inner = 10 + call.index("DM()")

    merged = merge_replacements((10, call, call[:-1] + ", bandwidth=5.0)"), (inner, "DM()", "SNPDIS()"))

    assert merged == (10, call, "OPE(logged_dataset=d, ope_estimators=[SNPDIS()], bandwidth=5.0)")


def test_merge_replacements_refuses_two_new_values_of_one_number() -> None:
    assert merge_replacements((0, "f(n=500)", "f(n=1000)"), (0, "f(n=500)", "f(n=5000)")) is None


# --- runtime budget -------------------------------------------------------------------------------


def test_runtime_budget_reads_time_like_guardrails_and_takes_the_tightest() -> None:
    budget = runtime_budget([("relative_error", 0.0, "minimize"), ("runtime_s", 0.5, "minimize"),
                             ("ope_seconds", 2.0, "minimize")])

    assert budget is not None and (budget.metric, budget.factor) == ("runtime_s", 1.3)
    assert runtime_budget([("relative_error", 0.1, "minimize")]) is None


# --- the installed scope-rl -----------------------------------------------------------------------


@pytest.mark.slow
def test_static_pipeline_calls_match_the_installed_scope_rl() -> None:
    installed = {c.name: c for c in Catalog().pipeline_calls()}

    for static in PIPELINE_CALLS:
        real = installed[static.name]

        assert real.source.startswith("installed 0.2"), static.name
        assert static.params == real.params, static.name
        assert set(static.defaults) <= set(real.defaults), static.name


def test_fqe_steps_raised_by_a_stacked_improvement_spend_the_runtime_budget(agent: Agent) -> None:
    files = {"ope/run.py": DM_ONLY}
    first = agent.analyzer.analyze(context(files, guardrails=RUNTIME)).analysis  # 500 → 1000 steps
    stacked = {"ope/run.py": DM_ONLY.replace("n_steps=500", "n_steps=1000")}
    history = [attempt(first, "", "improved", 1, gain=0.15)]

    reply = agent.analyzer.analyze(context(stacked, history, guardrails=RUNTIME))

    # Doubling again would run 4x as long as the baseline the guardrail compares with.
    row = next(line for line in reply.prompt.splitlines() if "`n_steps=2000`" in line)
    assert "~4x runtime, over the ope_seconds guardrail" in row
    assert reply.analysis.details["kind"] == "estimator-swap"


def test_a_swap_that_leaves_no_fqe_user_switches_fqe_fitting_off(tmp_path: Path) -> None:
    files = {"run.py": DM_ONLY}
    moves = survey(files, Catalog.static()).moves
    to_snpdis = next(m for m in moves if m.kind == "estimator-swap" and m.target == "SelfNormalizedPDIS")
    to_sndr = next(m for m in moves if m.kind == "estimator-swap" and m.target == "SelfNormalizedDR")
    agent = make_heuristic_agent(Catalog.static())
    request = CoderRequest(analysis=as_analysis(to_snpdis), files=files)

    after = apply(agent.coder.write_diff(request).diff, files, tmp_path)

    # FQE costs most of the pipeline's time and only DM/DR read its predictions.
    assert keyword_value(after["run.py"], "obtain_whole_inputs", "require_value_prediction") is False
    assert "FQE is then unused" in to_snpdis.hypothesis
    assert len(to_sndr.edits) == 1 and "FQE is then unused" not in to_sndr.hypothesis
