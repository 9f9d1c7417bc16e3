"""The one process runner: argv without a shell, stdin bytes fed while output is read, stderr apart,
output kept whole when asked (real subprocesses)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bot.process import run_process

ENV = {"PATH": os.environ["PATH"]}
#: Echo stdin to stdout, and its length to stderr.
ECHO = (
    "import sys; data = sys.stdin.buffer.read(); sys.stdout.buffer.write(data); "
    "sys.stderr.write(str(len(data)))"
)


def test_stdin_bytes_come_back_exactly_with_stderr_apart(tmp_path: Path) -> None:
    data = bytes(range(256)) * 8_192  # 2 MB of every byte value: far more than a pipe holds

    result = run_process([sys.executable, "-c", ECHO], tmp_path, ENV, 30, stdin=data, output_limit=None,
                         merge_stderr=False)

    assert result.returncode == 0 and not result.timed_out
    assert result.stdout == data and result.stdout_elided == 0
    assert result.stderr == str(len(data)).encode()


def test_a_bounded_stream_counts_what_it_dropped(tmp_path: Path) -> None:
    data = b"a" * 100_000

    result = run_process([sys.executable, "-c", ECHO], tmp_path, ENV, 30, stdin=data, output_limit=1_000,
                         merge_stderr=False)

    assert result.stdout_elided == 99_000
    assert result.stdout.startswith(b"a" * 500) and b"99000 bytes of output elided" in result.stdout


def test_a_process_that_never_reads_its_stdin_does_not_block_the_runner(tmp_path: Path) -> None:
    result = run_process([sys.executable, "-c", "print('done')"], tmp_path, ENV, 30, stdin=b"x" * 1_000_000)

    assert result.returncode == 0 and result.stdout == b"done\n"


def test_argv_is_not_interpreted_by_a_shell(tmp_path: Path) -> None:
    result = run_process(["echo", "$HOME; rm -rf /"], tmp_path, ENV, 30)

    assert result.stdout == b"$HOME; rm -rf /\n"


def test_a_missing_executable_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        run_process([str(tmp_path / "no-such-program")], tmp_path, ENV, 30)
