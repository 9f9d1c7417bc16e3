"""Config loading: valid files parse, invalid ones name the key, the line and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ALWAYS_PROTECTED, load_config, parse_config
from bot.errors import ConfigError
from tests.helpers.toy import CONFIG

MINIMAL = """\
evaluate:
  command: python eval.py --seed {seed} --out {metrics_path}
  objective: {metric: relative_ee}
edit:
  paths: ["src/**/*.py"]
"""


def test_minimal_config_gets_sensible_defaults() -> None:
    config = parse_config(MINIMAL)

    assert config.evaluate.objective.goal == "minimize"
    assert config.evaluate.seeds.search == [0, 1, 2]
    assert config.evaluate.seeds.confirm == [100, 101, 102, 103, 104]
    assert config.evaluate.seeds.validation == [200, 201, 202]
    assert config.evaluate.seeds.extend == 0
    assert config.loop.level == 0.125
    assert config.loop.agent == "auto"
    assert config.github.allowed_commenters == "write"
    assert set(ALWAYS_PROTECTED) <= set(config.edit.all_protected())


def test_toy_config_parses() -> None:
    assert parse_config(CONFIG).evaluate.guardrails[0].metric == "runtime_s"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL.replace("objective:", "objectiv:"),
            "evaluate.objectiv (line 3): unknown key; allowed here:",
        ),
        (MINIMAL + "loop:\n  agent: gpt\n", "loop.agent (line 7)"),
        (MINIMAL + "loop:\n  iterations: -1\n", "loop.iterations (line 7)"),
        (MINIMAL.replace("{seed}", "0"), "must contain the placeholder {seed}"),
        (MINIMAL.replace('["src/**/*.py"]', "[]"), "edit.paths (line 5)"),
        (MINIMAL + "  seeds: {search: [1], confirm: [1]}\n".replace("  seeds", "evaluate2"), "unknown key"),
        ("evaluate: [\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_invalid_config_names_the_problem(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert expected in str(info.value)


def test_overlapping_seed_sets_are_refused() -> None:
    text = MINIMAL.replace("  objective:", "  seeds: {search: [1, 2], confirm: [2, 3]}\n  objective:")
    with pytest.raises(ConfigError, match=r"disjoint.*\[2\]"):
        parse_config(text)


def test_validation_seeds_must_be_disjoint_from_the_other_tiers() -> None:
    seeds = "  seeds: {search: [1], validate: [5, 7], confirm: [7, 8]}\n"
    text = MINIMAL.replace("  objective:", seeds + "  objective:")
    with pytest.raises(ConfigError, match=r"validate and confirm seeds must be disjoint.*\[7\]"):
        parse_config(text)


def test_an_empty_validate_list_switches_the_tier_off_and_unknown_seed_keys_name_validate() -> None:
    off = MINIMAL.replace("  objective:", "  seeds: {validate: []}\n  objective:")
    typo = MINIMAL.replace("  objective:", "  seeds: {validates: [3]}\n  objective:")

    assert parse_config(off).evaluate.seeds.validation == []
    with pytest.raises(ConfigError, match="allowed here: search, validate, confirm, extend"):
        parse_config(typo)


def test_extension_seeds_follow_the_held_out_ones_and_skip_the_other_tiers() -> None:
    seeds = "  seeds: {search: [0], validate: [7], confirm: [5, 6]}\n"
    text = MINIMAL.replace("  objective:", seeds + "  objective:")

    assert parse_config(text).evaluate.seeds.extension(3) == [8, 9, 10]


def test_secret_looking_pass_env_is_refused() -> None:
    text = MINIMAL.replace("  objective:", "  pass_env: [GITHUB_TOKEN]\n  objective:")
    with pytest.raises(ConfigError, match="GITHUB_TOKEN"):
        parse_config(text)


def test_missing_config_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="growthhacker init"):
        load_config(tmp_path)


def test_bundled_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "ope-target"
    config = load_config(example)
    assert config.evaluate.objective.metric == "relative_ee"
    assert "evaluate.py" in config.edit.protected


def test_the_configuration_reference_in_the_readme_is_a_valid_config() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration (`.growthhacker.yml`)", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]

    config = parse_config(block)

    assert config.loop.prices == {} and config.loop.agent_pass_env == []
    assert config.evaluate.seeds.confirm == [100, 101, 102, 103, 104]
    assert config.edit.context == [] and config.loop.agent_timeout_s == 600
