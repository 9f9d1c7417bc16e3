"""`growthhacker verify`: two commits evaluated on the search seeds, and their deltas."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bot.cli.common import console, errors_to_exit_codes, eval_environ, existing_dir
from bot.config import CONFIG_FILE, load_config
from bot.decision import Criteria
from bot.github.render import check_report
from bot.report import deltas_table
from bot.verify import base_config, evaluate_refs
from bot.workspace import project_dir


@click.command()
@click.argument("repo", type=existing_dir(), default=".")
@click.option("--base", "base_ref", help="The commit to compare against (default: the config's github.base).")
@click.option("--head", "head_ref", default="HEAD", show_default=True, help="The commit to verify.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Config file (default: REPO/{CONFIG_FILE}).")
@errors_to_exit_codes
def verify(repo: Path, base_ref: str | None, head_ref: str, config_path: Path | None) -> None:
    """Evaluate two commits of REPO on the search seeds, one after the other, and print the deltas.

    The same check the GitHub Action runs on pull requests: no agent, no secrets in the evaluation,
    the config as committed at the base, and protected files (the evaluation harness) measured at
    the base's version.
    """
    root = project_dir(repo)
    base = base_ref or load_config(root, config_path).github.base
    config = base_config(root, base, config_path)
    console.print(f"evaluating {base} and {head_ref} on seeds {config.evaluate.seeds.search} …")
    result = evaluate_refs(root, config, base, head_ref, environ=eval_environ(os.environ))
    console.rule(f"{head_ref} ({result.head_sha[:8]}) vs {base} ({result.base_sha[:8]})")
    # soft_wrap: a wrapped markdown table is no longer a table when the output is pasted.
    table = deltas_table(result.base, result.head, Criteria.of(config))
    console.print(table, markup=False, soft_wrap=True)
    check = check_report(result.base, result.head, config)
    console.print(f"{check.conclusion}: {check.title}", markup=False)
    if result.restored:
        console.print(f"protected files measured at the base version: {', '.join(result.restored)}")
