"""The `growthhacker` command line: thin click commands over the library below.

One module per command group: :mod:`~bot.cli.run` (``run``, ``report``, ``journal``),
:mod:`~bot.cli.demo`, :mod:`~bot.cli.verify`, :mod:`~bot.cli.init`, :mod:`~bot.cli.action`; what they
share is in :mod:`~bot.cli.common`. Every :class:`~bot.errors.GrowthHackerError` a command raises
leaves as a one-line message and its class's exit code (the tree in bot/errors.py, the table in
README.md, "Exit codes"); click's own usage errors exit 2.
"""

from __future__ import annotations

import click

from bot import __version__
from bot.cli import action, demo, init, run, verify
from bot.cli.common import eval_environ

__all__ = ["cli", "eval_environ", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="growthhacker")
def cli() -> None:
    """GrowthHacker: propose, verify and ship improvements to off-policy-evaluation code.

    It works in a private git worktree of your repository, runs your own evaluation command on
    search and held-out seeds, and keeps the best verified change on a branch with a report.
    """


for _command in (run.run, run.report, run.journal_cmd, demo.demo, verify.verify, init.init,
                 action.action):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="growthhacker")
