"""`growthhacker demo --output DIR` never deletes what it did not make, unless told to with --force.

The example copied is the toy target (its loop runs in seconds); the bundled example's end-to-end
demo is in test_cli.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.demo import DEMO_MARKER
from bot.git import git
from tests.helpers.toy import toy_files


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The toy target as a plain directory, as the bundled example is shipped."""
    root = tmp_path / "example"
    for name, text in toy_files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def demo(example: Path, output: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["demo", "--example", str(example), "--output", output,
                                    "--iterations", "0", *args])


def test_a_directory_with_the_users_files_is_refused_and_kept(tmp_path: Path, example: Path) -> None:
    output = tmp_path / "mine"
    output.mkdir()
    (output / "notes.txt").write_text("my notes\n", encoding="utf-8")

    result = demo(example, str(output))

    assert result.exit_code == 8
    assert "is not empty" in result.output and "--force" in result.output
    assert [p.name for p in output.iterdir()] == ["notes.txt"]
    assert (output / "notes.txt").read_text(encoding="utf-8") == "my notes\n"


def test_output_dot_does_not_wipe_the_current_directory(
    tmp_path: Path, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "work"
    (here / "src").mkdir(parents=True)
    (here / "src" / "code.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.chdir(here)

    result = demo(example, ".")

    assert result.exit_code == 8
    assert (here / "src" / "code.py").read_text(encoding="utf-8") == "x = 1\n"


def test_an_earlier_demo_is_replaced(tmp_path: Path, example: Path) -> None:
    output = tmp_path / "demo-output"
    first = demo(example, str(output))

    second = demo(example, str(output))

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert (output / DEMO_MARKER).is_file()
    runs = list((output / ".growthhacker" / "runs").iterdir())
    assert len(runs) == 1  # the first demo's state went with it


def test_force_replaces_whatever_the_directory_holds(tmp_path: Path, example: Path) -> None:
    output = tmp_path / "mine"
    output.mkdir()
    (output / "notes.txt").write_text("my notes\n", encoding="utf-8")

    result = demo(example, str(output), "--force")

    assert result.exit_code == 0, result.output
    assert not (output / "notes.txt").exists()
    assert (output / DEMO_MARKER).is_file() and (output / "evaluate.py").is_file()


def test_the_marker_stays_out_of_the_demo_repository(tmp_path: Path, example: Path) -> None:
    output = tmp_path / "demo-output"

    result = demo(example, str(output))

    assert result.exit_code == 0, result.output
    assert "no improvement" in result.output
    assert DEMO_MARKER not in git(output, "ls-files").split()
    assert git(output, "status", "--porcelain") == ""


def test_the_example_itself_is_never_an_output(example: Path) -> None:
    before = sorted(p.name for p in example.iterdir())

    result = demo(example, str(example), "--force")

    assert result.exit_code == 8 and "overlaps the example" in result.output
    assert sorted(p.name for p in example.iterdir()) == before
