"""Reading a crashed evaluation's traceback: the exception, its message, the project's frames."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.crash import Crash, Frame, read_crash


def crash_of(tmp_path: Path, files: dict[str, str], main: str) -> tuple[str, Crash | None]:
    """Run ``main`` of a small project in ``tmp_path`` for real; its output and the crash read from it."""
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = subprocess.run([sys.executable, main], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    return output, read_crash(output, tmp_path)


def test_a_key_error_names_its_key_and_the_last_frame_in_an_editable_file(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/estimate.py": "import json\n\ndef pick(values):\n    return values['ipw']\n",
        "harness/run.py": "import sys\nsys.path.insert(0, '.')\nfrom pkg.estimate import pick\n\n"
                          "def main():\n    print(pick({'snipw': 0.5}))\n\nmain()\n",
    }

    _, crash = crash_of(tmp_path, files, "harness/run.py")

    assert crash is not None
    assert crash.exception == "KeyError" and crash.key == "ipw"
    assert [f.file for f in crash.frames] == ["harness/run.py", "harness/run.py", "pkg/estimate.py"]
    assert crash.last_frame_in(["pkg/estimate.py"]) == Frame(file="pkg/estimate.py", line=4, function="pick")
    assert crash.describe(["proj/pkg/estimate.py"]) == (
        "KeyError: 'ipw' (last frame in an editable file: pkg/estimate.py:4 in pick)")


def test_library_frames_are_left_out_and_the_final_exception_of_a_chain_is_read(tmp_path: Path) -> None:
    main = ("import json\n\ndef load():\n    try:\n        json.loads('{')\n    except ValueError as exc:\n"
            "        raise RuntimeError('bad config') from exc\n\nload()\n")

    output, crash = crash_of(tmp_path, {"main.py": main}, "main.py")

    assert output.count("Traceback (most recent call last):") == 2
    assert crash is not None and crash.exception == "RuntimeError" and crash.message == "bad config"
    assert all(not f.file.startswith("/") for f in crash.frames)
    assert crash.key is None
    assert crash.describe() == "RuntimeError: bad config (last frame in the project: main.py:7 in load)"


def test_output_without_a_traceback_is_no_crash_report(tmp_path: Path) -> None:
    assert read_crash("Killed\n", tmp_path) is None
    cut = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n'
    assert read_crash(cut, tmp_path) is None
