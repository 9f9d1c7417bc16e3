"""The benchmark of the bot itself: run `growthhacker run` on OPE target repositories, many times.

Layout: ``targets/`` holds the target repositories, ``strangers/`` the stranger set (repositories of
the test corpus ``tests/strangers/``, each with a benchmark configuration and larger data),
``runner`` plans and executes runs (one fresh git copy of a target per run, the real CLI as a
subprocess), ``records`` is the one-JSON-line-per-run
format, ``metrics`` defines what is measured (see README.md), ``report`` renders the tables and the
plot, and ``__main__`` is the command line (`python -m evals run|merge|report`).
"""

from __future__ import annotations

from pathlib import Path

#: The directory of this package (``evals/``).
EVALS_DIR = Path(__file__).resolve().parent
#: Where the target repositories live.
TARGETS_DIR = EVALS_DIR / "targets"
#: The stranger set: per repository of the test corpus, its benchmark configuration and the files a
#: larger variant replaces (overlaid on ``CORPUS_DIR/<name>``).
STRANGERS_DIR = EVALS_DIR / "strangers"
CORPUS_DIR = EVALS_DIR.parent / "tests" / "strangers"
#: Default parent of dated result directories.
RESULTS_DIR = EVALS_DIR / "results"
