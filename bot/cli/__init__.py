"""The `growthhacker` command line: thin click commands over the library below.

One module per command group: :mod:`~bot.cli.run` (``run``, ``report``, ``journal``),
:mod:`~bot.cli.shards` (``shard``, ``gather``), :mod:`~bot.cli.confirm`, :mod:`~bot.cli.demo`,
:mod:`~bot.cli.verify`, :mod:`~bot.cli.init`, :mod:`~bot.cli.action`; what they share is in
:mod:`~bot.cli.common`. Every :class:`~bot.errors.GrowthHackerError` a command raises leaves as a
one-line message and its class's exit code (the tree in bot/errors.py, the table in README.md,
"Exit codes"); click's own usage errors exit 2.

The commands are imported lazily, when one is invoked: importing them all (the loop, the GitHub
client, pydantic models, numpy) took seconds, which `growthhacker --help` and every light command
paid. The one-line help of each command is therefore written here too (a test keeps it equal to the
command's own docstring).
"""

from __future__ import annotations

import importlib

import click

from bot import __version__
from bot.cli.common import eval_environ

__all__ = ["COMMANDS", "cli", "eval_environ", "main"]

#: Command name → (module under bot.cli, attribute, the first sentence of its help, which
#: `growthhacker --help` shows shortened as click would).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "action": ("action", "action", "Run as the GitHub Action: read the event from GITHUB_EVENT_NAME / "
               "GITHUB_EVENT_PATH and do this job's part of its work (--mode)."),
    "confirm": ("confirm", "confirm_cmd",
                "Confirm one finalist of the run whose finished search shards are SHARD_DIRS on the held-out "
                "seeds, into the directory OUT, so that `gather` only selects (finalists side by side)."),
    "demo": ("demo", "demo",
             "Run the whole loop on a copy of the bundled example OPE repository, with no API key."),
    "gather": ("shards", "gather_cmd",
               "Join the finished search shards in SHARD_DIRS (all of one run): merge their records into "
               "the journal, confirm the finalists on the held-out seeds and commit the winner, as a run "
               "ends."),
    "init": ("init", "init", "Find REPO's evaluation by running it once; write .growthhacker.yml and the "
             "GitHub workflows."),
    "journal": ("run", "journal_cmd",
                "Show the experiment journal: every iteration with its status and improvement."),
    "report": ("run", "report",
               "Rebuild report.md and plot.png of RUN_ID (default: the latest run) from the journal."),
    "run": ("run", "run", "Optimise the OPE code of REPO: baseline, N iterations, post-hoc selection."),
    "shard": ("shards", "shard", "Run search shard INDEX of COUNT of run RUN_ID into the directory OUT (no "
              "selection: `gather` selects over every shard)."),
    "verify": ("verify", "verify", "Evaluate two commits of REPO on the search seeds, one after the other, "
               "and print the deltas."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when invoked (or asked for their own help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"bot.cli.{entry[0]}")
        command = getattr(module, entry[1])
        if not isinstance(command, click.Command):  # pragma: no cover - a wrong COMMANDS entry
            raise TypeError(f"bot.cli.{entry[0]}.{entry[1]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing uses the help written in COMMANDS, so `--help` imports no command module.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            formatter.write_dl([(name, click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit))
                                for name in names])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="growthhacker")
def cli() -> None:
    """GrowthHacker: propose, verify and ship improvements to off-policy-evaluation code.

    It works in a private git worktree of your repository, runs your own evaluation command on
    search and held-out seeds, and keeps the best verified change on a branch with a report.
    """


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="growthhacker")
