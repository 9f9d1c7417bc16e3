"""`growthhacker init`: the config and the GitHub workflows for a repository."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import console, errors_to_exit_codes, existing_dir
from bot.init import DEFAULT_ACTION_REF, init_repo


@click.command()
@click.argument("repo", type=existing_dir(), default=".")
@click.option("--action-ref", default=DEFAULT_ACTION_REF, show_default=True,
              help="The action the workflows use: owner/repo@tag, owner/repo@<commit sha> to pin it, "
              "or ./path for a local copy.")
@click.option("--force", is_flag=True, help="Overwrite existing .growthhacker.yml and workflow files.")
@errors_to_exit_codes
def init(repo: Path, action_ref: str, force: bool) -> None:
    """Write .growthhacker.yml (detected from REPO) and the GitHub workflows that run GrowthHacker.

    Finds the evaluation script (evaluate*.py / eval*.py taking --seed) and the code importing obp
    or scope_rl; writes .github/workflows/growthhacker-{optimize,verify,command}.yml. Review the
    config (the objective metric above all) before committing.
    """
    result = init_repo(repo, action_ref=action_ref, force=force)
    for path in result.written:
        console.print(f"wrote {path}")
    for note in result.detected.notes:
        console.print(f"[yellow]check:[/yellow] {note}")
    console.print(
        "next: adjust evaluate.objective, try it with `growthhacker run`, commit, add the "
        "ANTHROPIC_API_KEY secret (optional) and allow Actions to create pull requests "
        "(Settings → Actions → General)."
    )
