"""`growthhacker init --yes` on every stranger repository (tests/strangers/), checked against what its
author says about it (:data:`tests.helpers.strangers.STRANGERS`).

The slow tests run the real obp / scope-rl pipelines: init's own run (seed 0), then the written
command once more through the bot's :class:`~bot.evaluate.Evaluator` (seed 1), as a run would.
``--objective`` is passed only to ``estimator-duel``: it writes one squared error per estimator
(``ipw_sq_error``, ``snipw_sq_error``, ``dr_sq_error``) and nothing in it says which one matters.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli, eval_environ
from bot.config import load_config
from bot.evaluate import Evaluator
from bot.init.candidates import find_candidates, python_files
from bot.init.imports import import_closure, inspect_module, reaches_ope
from bot.init.objective import Ambiguous, choose_objective
from bot.patch import glob_match
from tests.helpers.strangers import CORPUS, STRANGERS, Stranger, copy_stranger

NAMES = sorted(STRANGERS)


@pytest.mark.parametrize("name", NAMES)
def test_the_evaluation_is_the_best_candidate(name: str) -> None:
    stranger, root = STRANGERS[name], CORPUS / name

    ranked = find_candidates(root, python_files(root), lambda path: reaches_ope(root, path))

    assert ranked[0].path == stranger.entry


@pytest.mark.parametrize("name", NAMES)
def test_the_estimator_modules_are_what_the_evaluation_imports_that_builds_estimators(name: str) -> None:
    stranger, root = STRANGERS[name], CORPUS / name

    facts = [inspect_module(p, t) for p, t in import_closure(root, stranger.entry).items()]

    assert sorted(f.path for f in facts if f.path != stranger.entry and f.builds_estimators) == sorted(
        stranger.estimator_files
    )


def _init(repo: Path, stranger: Stranger) -> None:
    objective = ["--objective", stranger.objective] if stranger.ambiguous else []
    action_ref = ["--action-ref", "acme/gh@" + "c" * 40]
    result = CliRunner().invoke(cli, ["init", str(repo), "--yes", *action_ref, *objective])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_init_yes_writes_a_config_that_runs_and_optimises_what_the_author_means(
    name: str, tmp_path: Path
) -> None:
    stranger = STRANGERS[name]
    repo = copy_stranger(name, tmp_path)

    _init(repo, stranger)

    config = load_config(repo)
    evaluator = Evaluator(config.evaluate, tmp_path / "cache", environ=eval_environ(os.environ))
    seed = evaluator.evaluate(repo, tree="stranger", seeds=[1]).seeds[0]
    assert seed.ok, seed.reason
    objective = config.evaluate.objective
    assert (objective.metric, objective.goal) == (stranger.objective, stranger.goal)
    assert objective.metric in seed.metrics
    assert isinstance(choose_objective(seed.metrics), Ambiguous) == stranger.ambiguous
    assert sorted(g.metric for g in config.evaluate.guardrails) == sorted(stranger.time_metrics)
    editable = [p for p in stranger.harness if any(glob_match(g, p) for g in config.edit.paths)]
    unprotected = [p for p in stranger.harness if not any(glob_match(g, p) for g in config.edit.protected)]
    assert (editable, unprotected) == ([], [])
    assert sorted(config.edit.paths) == sorted(stranger.estimator_files)
