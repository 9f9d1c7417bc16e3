"""The demo repository: a copy of the bundled example made a git repository, in a directory it owns.

The demo writes :data:`DEMO_MARKER` into its directory before anything else, so a later demo can tell
its own earlier output (which it replaces) from a directory holding the user's files (which it never
touches unless told to with ``force``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bot.config import CONFIG_FILE
from bot.errors import ConfigError
from bot.git import git

DEMO_MARKER = ".growthhacker-demo"
_MARKER_TEXT = (
    "This directory was made by `growthhacker demo`; the next demo with --output here replaces it.\n"
)


def bundled_example() -> Path:
    """The example OPE repository shipped in the source tree (``examples/ope-target``).

    Raises:
        ConfigError: GrowthHacker is not run from a source checkout.
    """
    path = Path(__file__).resolve().parents[1] / "examples" / "ope-target"
    if not (path / CONFIG_FILE).is_file():
        raise ConfigError(f"the bundled example is not at {path}; run the demo from a source checkout "
                          "or pass --example PATH")
    return path


def make_demo_repo(source: Path, output: Path | None, *, force: bool = False) -> Path:
    """Copy ``source`` into ``output`` (default: a new temporary directory) as a one-commit git repo.

    ``output`` may be missing, empty, or a previous demo (it holds :data:`DEMO_MARKER`); its
    contents are then replaced. Anything else is refused unless ``force`` is set. Returns the
    directory.

    Raises:
        ConfigError: ``output`` holds files that are not a previous demo (and ``force`` is not
            set), or it overlaps ``source``.
        WorkspaceError: git failed.
    """
    if output is None:
        output = Path(tempfile.mkdtemp(prefix="growthhacker-demo-"))
    else:
        _check_overlap(source, output)
        _clear(output, force)
    output.mkdir(parents=True, exist_ok=True)
    # Written first: a demo that fails half-way is still recognised (and replaced) by the next one.
    (output / DEMO_MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    shutil.copytree(source, output, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".growthhacker", DEMO_MARKER))
    git(output, "init", "-q", "-b", "main")
    # The marker belongs to the directory, not to the example's history.
    with (output / ".git" / "info" / "exclude").open("a", encoding="utf-8") as exclude:
        exclude.write(f"/{DEMO_MARKER}\n")
    git(output, "add", "-A")
    git(output, "-c", "user.name=growthhacker-demo", "-c", "user.email=demo@example.invalid",
        "commit", "-q", "-m", "OPE pipeline baseline")
    return output


def _check_overlap(source: Path, output: Path) -> None:
    src, out = source.resolve(), output.resolve()
    if src == out or src.is_relative_to(out) or out.is_relative_to(src):
        raise ConfigError(f"--output {output} overlaps the example {source}: choose a directory "
                          "outside it (and not containing it)")


def _clear(output: Path, force: bool) -> None:
    """Empty ``output`` if it is a previous demo or ``force`` says so; refuse a directory of files."""
    if not output.exists():
        return
    entries = list(output.iterdir())
    if entries and not force and not (output / DEMO_MARKER).is_file():
        raise ConfigError(
            f"{output} is not empty and holds no earlier demo (no {DEMO_MARKER} file); nothing was "
            "changed: choose a new or empty directory, or pass --force to delete everything in it"
        )
    # The directory itself stays (it may be the current directory); only what it holds goes.
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
