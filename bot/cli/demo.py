"""`growthhacker demo`: the whole loop on a copy of the bundled example, with no API key."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bot.cli.common import console, errors_to_exit_codes, existing_dir, with_bot_interpreter
from bot.cli.run import execute_run, show_summary
from bot.demo import DEMO_MARKER, bundled_example, make_demo_repo

#: Iterations of the demo: with the baseline, validation and three finalists on five held-out seeds,
#: about 44 evaluations, which keeps `make demo` within 3 minutes on 2 cores (README). Five iterations
#: already find and confirm the example's improvements; `-n 8` runs the example's full budget.
DEMO_ITERATIONS = 5


@click.command()
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="Where to create the demo repository (default: a new temporary directory). It must "
              f"be new, empty or an earlier demo (it holds {DEMO_MARKER}), which is replaced.")
@click.option("--force", is_flag=True, help="Delete whatever --output holds first.")
@click.option("--example", type=existing_dir(),
              help="Example repository to copy (default: the bundled examples/ope-target).")
@click.option("-n", "--iterations", type=click.IntRange(0, 1000), default=DEMO_ITERATIONS, show_default=True,
              help="Iterations of the demo run (the example's loop.iterations is 8; each iteration costs "
              "an evaluation on every search seed).")
@errors_to_exit_codes
def demo(output: Path | None, force: bool, example: Path | None, iterations: int) -> None:
    """Run the whole loop on a copy of the bundled example OPE repository, with no API key.

    Copies the example into a fresh git repository, runs the heuristic agent end to end and prints
    the metric deltas, with the report, plot and pull-request text it would post.
    """
    output = make_demo_repo(example or bundled_example(), output, force=force)
    console.print(f"demo repository: {output}")
    summary, run_dir = execute_run(output, config_path=None, iterations=iterations,
                                   agent_name="heuristic", hints=[], resume=False, base_ref="HEAD",
                                   environ=with_bot_interpreter(os.environ))
    show_summary(summary, run_dir)
