"""Moves that add structure the pipeline lacks: the model a DM/DR-family estimator needs.

A pipeline with only importance-weighting estimators computes no reward predictions, so a swap to
the Direct Method or a doubly robust estimator alone would crash or estimate nothing. These moves
make the swap together with what it needs, in one diff:

- obp: fit a ``RegressionModel`` (a ridge regression of the reward on context and action, cross-fitted
  over 3 folds; a regressor works for binary and continuous rewards alike) on the OPE object's own
  ``bandit_feedback`` right before ``estimate_policy_values(…)``, and pass its predictions as
  ``estimated_rewards_by_reg_model``. Later moves can then tune or swap that model like any other.
- scope-rl: ask ``CreateOPEInput.obtain_whole_inputs`` for value predictions
  (``require_value_prediction=True``: it fits FQE, at its configured or default number of steps).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import replace

from bot.ope.edit import rewrite_call
from bot.ope.pipeline import PipelineCall
from bot.ope.proposal import Change, Edit, Import, Move
from bot.ope.scan import FileScan, LineIndex, call_site
from bot.ope.weights import WEIGHTS

#: Methods of obp's ``OffPolicyEvaluation`` that take ``action_dist`` and reward predictions.
OBP_OPE_METHODS = ("estimate_policy_values", "estimate_intervals", "summarize_off_policy_estimates",
                   "evaluate_performance_of_estimators", "summarize_estimators_comparison")
REWARDS_KEYWORD = "estimated_rewards_by_reg_model"
#: The names obp's own examples use for the model and its predictions.
_MODEL, _PREDICTIONS = "regression_model", "estimated_rewards_by_reg_model"
_VALUE_KEYWORD = "require_value_prediction"


def with_reward_model(swap: Move, scans: tuple[FileScan, ...]) -> Move | None:
    """``swap`` (an obp estimator swap to a class that needs reward predictions) plus fitting obp's
    ``RegressionModel`` before the OPE calls and passing its predictions; None where that cannot be
    done safely (no ``OffPolicyEvaluation`` call with a plain ``action_dist``, OPE calls in several
    functions, or the names it would add are taken)."""
    for scan in scans:
        if scan.error or "obp" not in {origin.split(".", 1)[0] for _, origin in scan.bindings}:
            continue
        edits = _fit_before_ope_calls(scan)
        if edits is None:
            continue
        imports = tuple(Import(scan.path, m, n) for m, n in (("obp.ope", "RegressionModel"),
                                                            ("sklearn.linear_model", "Ridge"))
                        if scan.binding(n) is None)
        if any(i.name in scan.defined for i in imports):
            return None
        where = f"`{edits[0].new.strip().splitlines()[-1].strip()[:60]}`"
        added = Change("add-model", scan.path, where, "RegressionModel", "wrapper")
        return _structured(
            swap, edits, imports, added,
            f"fit a reward model first (obp `RegressionModel` on `Ridge`, 3 folds) and pass its predictions "
            f"as `{REWARDS_KEYWORD}`", WEIGHTS.reward_model_cost,
        )
    return None


def with_value_prediction(
    swap: Move, scans: tuple[FileScan, ...], calls: Mapping[str, PipelineCall]
) -> Move | None:
    """``swap`` (a scope-rl swap to DM or a DR-family class) plus ``require_value_prediction=True`` on
    every ``obtain_whole_inputs`` call that does not ask for value predictions; None if there is none
    or one passes it positionally."""
    spec = calls.get("obtain_whole_inputs")
    if spec is None or _VALUE_KEYWORD not in spec.params:
        return None
    edits: list[Edit] = []
    for scan in scans:
        for call in scan.pipeline_calls:
            if call.name != "obtain_whole_inputs":
                continue
            arg = call.keyword(_VALUE_KEYWORD)
            positional = sum(a.keyword is None for a in call.args)
            if arg is None and positional > spec.params.index(_VALUE_KEYWORD):
                return None
            if arg is not None and arg.value.strip() not in ("False", "None"):
                continue
            new = rewrite_call(call, values={_VALUE_KEYWORD: "True"})
            edits.append(Edit(scan.path, call.start, call.end, call.text, new))
    if not edits:
        return None
    first = edits[0]
    added = Change("add-model", first.file, "`obtain_whole_inputs(…)`", "FQE", "value-model",
                   keyword=_VALUE_KEYWORD, was="False", value="True")
    return _structured(swap, edits, (), added,
                       f"fit FQE for value predictions (`{_VALUE_KEYWORD}=True` on `obtain_whole_inputs`)",
                       WEIGHTS.value_model_cost)


def _structured(
    swap: Move, edits: list[Edit], imports: tuple[Import, ...], added: Change, what: str, cost: float
) -> Move:
    plans = "; ".join(f"In {e.file}, replace `{_compact(e.old)}` with `{_compact(e.new)}`" for e in edits)
    return replace(
        swap, kind="add-model",
        hypothesis=f"{swap.hypothesis} The pipeline computes no predictions for it yet: {what}.",
        plan=f"{swap.plan}; {plans}", edits=(*swap.edits, *edits),
        imports=tuple(dict.fromkeys((*swap.imports, *imports))), cost=swap.cost * cost,
        keywords=(*swap.keywords, "reward model", "regression model", "fqe", "value model"),
        changes=(added, *swap.changes),
    )


def _fit_before_ope_calls(scan: FileScan) -> list[Edit] | None:
    """Edits that fit the reward model before the first obp OPE call and pass its predictions to
    every OPE call (all in one block of statements); None if the file's OPE calls do not allow it."""
    tree = ast.parse(scan.text)
    if {_MODEL, _PREDICTIONS} & scan.identifiers:
        return None
    found = [(block, stmt, node) for block, stmt, node in _ope_calls(tree)
             if all(k.arg != REWARDS_KEYWORD or _is_none(k.value) for k in node.keywords)]
    # One block: the predictions fitted before the first call are in scope at every other one.
    if not found or len({block for block, _, _ in found}) > 1:
        return None
    index = LineIndex(scan.text)
    _, stmt, first = found[0]
    receiver = _plain(first.func.value) if isinstance(first.func, ast.Attribute) else None
    positional = first.args[0] if first.args else None
    dist = next((k.value for k in first.keywords if k.arg == "action_dist"), positional)
    if receiver is None or dist is None or _plain(dist) is None:
        return None
    feedback = f"{ast.unparse(receiver)}.bandit_feedback"
    indent = " " * stmt.col_offset
    block = "".join(f"{indent}{line}\n" for line in (
        f"{_MODEL} = RegressionModel(",
        f'    n_actions={feedback}["n_actions"],',
        f"    len_list={ast.unparse(dist)}.shape[2],",
        "    base_model=Ridge(alpha=1.0),",
        ")",
        f"{_PREDICTIONS} = {_MODEL}.fit_predict(",
        f'    context={feedback}["context"],',
        f'    action={feedback}["action"],',
        f'    reward={feedback}["reward"],',
        f'    position={feedback}.get("position"),',
        "    n_folds=3,",
        "    random_state=12345,",
        ")",
    ))
    edits: list[Edit] = []
    line_start = index.starts[stmt.lineno - 1]
    first_stmt = stmt
    for _, stmt, node in found:
        site = call_site(scan.path, scan.text, index, node)
        new = rewrite_call(site, values={REWARDS_KEYWORD: _PREDICTIONS})
        if stmt is first_stmt and node is first:
            stmt_text = scan.text[line_start:site.start] + new
            old = scan.text[line_start:site.end]
            edits.append(Edit(scan.path, line_start, site.end, old, block + stmt_text))
        else:
            edits.append(Edit(scan.path, site.start, site.end, site.text, new))
    return edits


def _ope_calls(tree: ast.Module) -> list[tuple[int, ast.stmt, ast.Call]]:
    """(id of the enclosing block, enclosing simple statement, call) of every obp OPE method call that
    passes an ``action_dist``, in source order. Calls in the header of a compound statement (``for x
    in ope.estimate…``) are left out: there is no statement before them in their block."""
    out: list[tuple[int, ast.stmt, ast.Call]] = []

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            blocks = [getattr(stmt, f, None) for f in ("body", "orelse", "finalbody")]
            blocks += [h.body for h in getattr(stmt, "handlers", [])]
            blocks += [c.body for c in getattr(stmt, "cases", [])]
            lists = [b for b in blocks if isinstance(b, list) and b]
            if lists:
                for block in lists:
                    visit(block)
                continue
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in OBP_OPE_METHODS \
                        and (node.args or any(k.arg == "action_dist" for k in node.keywords)):
                    out.append((id(body), stmt, node))
    visit(tree.body)
    return sorted(out, key=lambda t: (t[2].lineno, t[2].col_offset))


def _plain(node: ast.expr) -> ast.expr | None:
    """``node`` if it is a name or a dotted attribute of one (cheap and safe to evaluate twice)."""
    inner = node
    while isinstance(inner, ast.Attribute):
        inner = inner.value
    return node if isinstance(inner, ast.Name) else None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _compact(text: str) -> str:
    return " ".join(text.split())
