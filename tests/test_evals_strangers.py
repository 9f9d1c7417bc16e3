"""The benchmark's stranger set: every repository of the test corpus, configured as its author would,
with larger data, copied as corpus + overlay, and selected with ``--targets strangers``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import CONFIG_FILE, load_config
from bot.patch import PathPolicy
from evals import CORPUS_DIR, STRANGERS_DIR
from evals.runner import plan
from evals.targets import list_strangers, list_targets, prepare_repo, resolve_targets, target_dir
from tests.helpers.strangers import STRANGERS


def overlay_files(name: str) -> list[str]:
    root = STRANGERS_DIR / name
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_stranger_set_is_the_whole_corpus() -> None:
    assert list_strangers() == sorted(STRANGERS)
    assert not set(list_strangers()) & set(list_targets())


def test_targets_all_and_strangers_name_the_two_sets() -> None:
    assert resolve_targets("all") == list_targets()
    assert resolve_targets("strangers") == list_strangers()
    assert resolve_targets("strangers, coupon-ope,all") == [*list_strangers(), *list_targets()]
    specs = plan(resolve_targets("strangers"), ["heuristic"], runs=1, iterations=2, search=2, confirm=3)
    assert [s.target for s in specs] == list_strangers()
    assert all(s.search_seeds == [0, 1] and s.confirm_seeds == [100, 101, 102] for s in specs)


@pytest.mark.parametrize("name", sorted(STRANGERS))
def test_an_overlay_only_configures_and_replaces_files_of_its_corpus_repository(name: str) -> None:
    files = overlay_files(name)

    assert CONFIG_FILE in files
    assert all((CORPUS_DIR / name / path).is_file() for path in files if path != CONFIG_FILE), files


@pytest.mark.parametrize("name", sorted(STRANGERS))
def test_each_stranger_is_configured_as_its_author_describes_it(name: str, tmp_path: Path) -> None:
    author = STRANGERS[name]
    repo = prepare_repo(target_dir(name), tmp_path / "repo", [0], [100])

    config = load_config(repo)
    policy = PathPolicy.from_config(config.edit)

    assert author.entry in config.evaluate.command and (repo / author.entry).is_file()
    objective = config.evaluate.objective
    assert (objective.metric, objective.goal) == (author.objective, author.goal)
    assert {g.metric for g in config.evaluate.guardrails} == set(author.time_metrics)
    assert all(policy.allows(path) and (repo / path).is_file() for path in author.estimator_files)
    assert not any(policy.allows(path) for path in author.harness)
    assert (config.evaluate.seeds.search, config.evaluate.seeds.confirm) == ([0], [100])


def test_a_larger_variant_replaces_the_corpus_file_in_the_copy(tmp_path: Path) -> None:
    repo = prepare_repo(target_dir("estimator-shootout"), tmp_path / "repo", [0], [100])

    corpus = CORPUS_DIR / "estimator-shootout"

    assert "N_ROUNDS = 10000" in (repo / "shootout" / "settings.py").read_text(encoding="utf-8")
    assert "N_ROUNDS = 2500" in (corpus / "shootout" / "settings.py").read_text(encoding="utf-8")
    assert (repo / "benchmark.py").read_bytes() == (corpus / "benchmark.py").read_bytes()
