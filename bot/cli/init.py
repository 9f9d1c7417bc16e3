"""`growthhacker init`: the config (found by running the repository's evaluation once) and the
GitHub workflows for a repository; the prompts for what the repository does not say."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from bot.cli.common import console, errors_to_exit_codes, eval_environ, existing_dir
from bot.init import init_repo
from bot.init.objective import Goal


class PromptAsker:
    """Asks on the terminal (a :class:`bot.init.Asker`); ``--yes`` uses none and fails instead."""

    def metric(self, choices: Sequence[str], why: str) -> str:
        """The objective metric, picked among ``choices`` at a prompt."""
        click.echo(f"Which metric should GrowthHacker optimise? ({why})")
        return str(click.prompt("objective", type=click.Choice(list(choices)), show_choices=True))

    def goal(self, metric: str) -> Goal:
        """Whether to minimize or maximize ``metric``, asked at a prompt."""
        answer = click.prompt(f"minimize or maximize {metric}?", type=click.Choice(["min", "max"]))
        return "minimize" if answer == "min" else "maximize"


def _print(text: str) -> None:
    # soft_wrap: a wrapped config line is no longer YAML when it is pasted.
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@click.command()
@click.argument("repo", type=existing_dir(), default=".")
@click.option("--objective", metavar="NAME[:min|max]", help="The metric to optimise (default: the one "
              "whose name says error/loss/bias, else value/reward/accuracy; asked when ambiguous).")
@click.option("-y", "--yes", is_flag=True, help="Never ask: fail if the objective is ambiguous.")
@click.option("--dry-run", is_flag=True, help="Print the config that would be written; write nothing.")
@click.option("--action-ref", help="The action the workflows use: owner/repo@<commit sha> (pinned; a tag "
              "works too) or ./path for a local copy. Default: the GitHub commit this GrowthHacker was "
              "pip-installed from; required otherwise.")
@click.option("--force", is_flag=True, help="Overwrite existing .growthhacker.yml and workflow files.")
@click.option("--shards", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Search jobs of the optimize workflow: above 1, a matrix of that many shard jobs (each "
              "a slice of the iterations, on a runner of its own), a gather job that confirms the "
              "finalists, then publish. For evaluations too long for one job.")
@errors_to_exit_codes
def init(repo: Path, objective: str | None, yes: bool, dry_run: bool, action_ref: str | None,
         force: bool, shards: int) -> None:
    """Find REPO's evaluation by running it once; write .growthhacker.yml and the GitHub workflows.

    The evaluation is a script taking a seed (argparse, click or sys.argv; any name, any folder). It
    runs once (seed 0, in a private copy, scrubbed environment) to learn where it writes which
    metrics. The objective is the metric whose name says error/loss/bias (minimized), else
    value/reward/accuracy (maximized), asked when ambiguous; time-like metrics become guardrails.
    Editable: the modules it imports that build OPE estimators or reward models; protected: itself,
    the rest of what it imports, data and artifacts. Every finding is printed with its reason.
    Writes .github/workflows/growthhacker-{optimize,verify,command}.yml too.
    """
    result = init_repo(repo, environ=eval_environ(os.environ), objective=objective, dry_run=dry_run,
                       asker=None if yes else PromptAsker(), action_ref=action_ref, force=force,
                       shards=shards, echo=_print)
    if dry_run:
        _print(result.config)
        return
    for path in result.written:
        _print(f"wrote {path}")
    _print("next: try it with `growthhacker run --iterations 2`, commit, add the ANTHROPIC_API_KEY secret "
           "(optional) and allow Actions to create pull requests (Settings → Actions → General).")
