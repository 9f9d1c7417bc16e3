"""The benchmark of the bot itself: run `growthhacker run` on OPE target repositories, many times.

Layout: ``targets/`` holds the target repositories, ``runner`` plans and executes runs (one fresh git
copy of a target per run, the real CLI as a subprocess), ``records`` is the one-JSON-line-per-run
format, ``metrics`` defines what is measured (see README.md), ``report`` renders the tables and the
plot, and ``__main__`` is the command line (`python -m evals run|merge|report`).
"""

from __future__ import annotations

from pathlib import Path

#: The directory of this package (``evals/``).
EVALS_DIR = Path(__file__).resolve().parent
#: Where the target repositories live.
TARGETS_DIR = EVALS_DIR / "targets"
#: Default parent of dated result directories.
RESULTS_DIR = EVALS_DIR / "results"
