"""Running one shell command for the bot, safely: scrubbed environment, timeout, bounded output.

The command is machine-influenced (candidate code, repository checks), so it runs in its own session
(the whole process group is killed on timeout, and anything it leaves running is killed when it
exits), with an allow-listed environment (no tokens or keys), stdin from /dev/null, and output read
incrementally into a bounded buffer. :mod:`bot.evaluate` builds per-seed evaluation on top of this.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import EvaluationError
from bot.redact import is_secret_name, scrub

ALLOWED_ENV: tuple[str, ...] = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM", "USER", "LOGNAME", "SHELL",
    "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MPLBACKEND",
    "CUDA_VISIBLE_DEVICES", "SOURCE_DATE_EPOCH",
)  # fmt: skip

_KILL_GRACE_S = 2.0  # between SIGTERM and SIGKILL of a timed-out process group
_DRAIN_S = 1.0  # how long to keep reading output held open by a process that escaped the group
_REAP_S = 10.0  # a SIGKILLed process that is not gone by then is stuck in the kernel
_POLL_S = 0.05
_CHUNK = 65_536
_TAIL_LINES = 20
_TAIL_CHARS = 2_000


def scrub_env(environ: Mapping[str, str], pass_env: Sequence[str] = ()) -> dict[str, str]:
    """The environment an eval subprocess gets: ``ALLOWED_ENV`` plus ``pass_env``, minus secrets.

    Names that look like secrets are dropped even when allow-listed (defence in depth).
    ``PYTHONDONTWRITEBYTECODE=1`` is always set (no ``.pyc`` in the worktree) and ``MPLBACKEND=Agg``
    unless the caller chose a backend. Returns a new dict; ``environ`` is not modified.
    """
    allowed = set(ALLOWED_ENV) | set(pass_env)
    env = {k: v for k, v in environ.items() if k in allowed and not is_secret_name(k)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("MPLBACKEND", "Agg")
    return env


@dataclass(frozen=True)
class CommandResult:
    """How a command ended and what it printed (stdout and stderr combined, bounded)."""

    returncode: int | None  # None if killed on timeout
    timed_out: bool
    output: str
    duration_s: float

    def tail(self) -> str:
        """The last lines of the output (bounded), for failure reasons."""
        lines = self.output.rstrip().splitlines()[-_TAIL_LINES:]
        return "\n".join(lines)[-_TAIL_CHARS:]


class _BoundedOutput:
    """Keeps the first and last ``limit // 2`` bytes of a stream and counts what falls between."""

    def __init__(self, limit: int) -> None:
        self._head_limit = limit // 2
        self._tail_limit = limit - self._head_limit
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0

    def feed(self, chunk: bytes) -> None:
        self._total += len(chunk)
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        self._tail += chunk
        # Trim only when twice over the limit so trimming stays amortised O(1) per byte.
        if len(self._tail) > 2 * self._tail_limit:
            del self._tail[: len(self._tail) - self._tail_limit]

    def text(self) -> str:
        tail = self._tail[-self._tail_limit :] if self._tail_limit else b""
        dropped = self._total - len(self._head) - len(tail)
        head = self._head.decode("utf-8", errors="replace")
        if dropped <= 0:
            return head + bytes(tail).decode("utf-8", errors="replace")
        marker = f"\n[... {dropped} bytes of output elided ...]\n"
        return head + marker + bytes(tail).decode("utf-8", errors="replace")


class _Pump:
    """Reads a pipe without blocking for longer than asked, until EOF."""

    def __init__(self, fd: int, limit: int) -> None:
        self.buffer = _BoundedOutput(limit)
        self.eof = False
        self._fd = fd
        self._idle_sleep = 0.001
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def read_for(self, seconds: float) -> None:
        """Wait up to ``seconds`` for output and consume one chunk of it."""
        if self.eof:
            # Nothing left to wait on but the exit itself, which usually follows the pipe closing
            # within a millisecond or two: back off from 1 ms instead of sleeping a full poll.
            time.sleep(max(min(seconds, self._idle_sleep), 0.0))
            self._idle_sleep = min(2 * self._idle_sleep, _POLL_S)
            return
        if self._poller.poll(max(seconds, 0.0) * 1000):
            chunk = os.read(self._fd, _CHUNK)
            if chunk:
                self.buffer.feed(chunk)
            else:
                self.eof = True


def _leader_exited(proc: subprocess.Popen[bytes]) -> bool:
    # WNOWAIT leaves the leader a zombie, so its pid (the group id) cannot be reused before we
    # have signalled the group for the last time.
    if hasattr(os, "waitid"):
        try:
            return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True
    return proc.poll() is not None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(pgid, sig)


def _reap(proc: subprocess.Popen[bytes]) -> int:
    """Wait for the SIGKILLed leader; raise if even that does not end it (e.g. stuck in the kernel)."""
    with contextlib.suppress(ProcessLookupError):
        proc.kill()  # in case the leader moved itself out of its process group
    try:
        return proc.wait(timeout=_REAP_S)
    except subprocess.TimeoutExpired:
        raise EvaluationError(f"process {proc.pid} survived SIGKILL for {_REAP_S:g} s") from None


def _pump_until(proc: subprocess.Popen[bytes], pump: _Pump, deadline: float, need_eof: bool) -> bool:
    """Read output until the leader has exited (and, if asked, the pipe closed); False on deadline."""
    while True:
        if _leader_exited(proc) and (pump.eof or not need_eof):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        pump.read_for(min(_POLL_S, remaining))


def run_command(
    command: str,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    output_limit: int = 64_000,
    log_path: Path | None = None,
    *,
    redact: Sequence[str] = (),
) -> CommandResult:
    """Run ``command`` with ``/bin/sh -c`` in a new session, stdin from /dev/null.

    On timeout the process group gets SIGTERM, then SIGKILL after a grace period; processes the
    command left running after it exited are killed too. Output is read incrementally and kept
    bounded (head and tail, middle elided with a marker); ``redact`` values are replaced by ``***``.
    If ``log_path`` is given, the bounded output is written there.

    Returns:
        The :class:`CommandResult` (``returncode`` None if killed on timeout).

    Raises:
        EvaluationError: the command could not be started (``cwd`` missing, no ``/bin/sh``) or the
            log could not be written.
    """
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            bufsize=0,
        )
    except OSError as exc:
        raise EvaluationError(f"cannot start `{command}` in {cwd}: {exc}") from exc
    assert proc.stdout is not None  # stdout=PIPE
    try:
        pump = _Pump(proc.stdout.fileno(), output_limit)
        finished = _pump_until(proc, pump, start + timeout_s, need_eof=False)
        if not finished:
            _signal_group(proc.pid, signal.SIGTERM)
            _pump_until(proc, pump, time.monotonic() + _KILL_GRACE_S, need_eof=True)
        _signal_group(proc.pid, signal.SIGKILL)
        returncode = _reap(proc)
        drain_deadline = time.monotonic() + _DRAIN_S
        while not pump.eof and time.monotonic() < drain_deadline:
            pump.read_for(min(_POLL_S, drain_deadline - time.monotonic()))
    finally:
        if proc.returncode is None:  # interrupted (e.g. KeyboardInterrupt): leave nothing behind
            _signal_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=_REAP_S)
        proc.stdout.close()
    output = scrub(pump.buffer.text(), redact)
    if log_path is not None:
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(output, encoding="utf-8")
        except OSError as exc:
            raise EvaluationError(f"cannot write the log {log_path}: {exc}") from exc
    return CommandResult(
        returncode=None if not finished else returncode,
        timed_out=not finished,
        output=output,
        duration_s=time.monotonic() - start,
    )


def stop_processes_in(directory: Path) -> list[int]:
    """Kill (SIGKILL) the process groups a killed run left working in ``directory``.

    A run killed with ``kill -9`` (or SIGTERM, which Python does not turn into cleanup) leaves its
    evaluation running: it has its own session and outlives the bot, still working in the worktree
    that ``--resume`` is about to reuse. Such a process is recognised by its working directory
    (inside ``directory``) and by what :func:`run_command` gave it: a session of its own (its group
    leads the session) and no controlling terminal — so a user's shell that merely ``cd``-ed there
    is left alone, as is this process's own group. Linux only (reads ``/proc``); elsewhere nothing.

    Returns:
        The pids found (their groups were signalled). Raises nothing.
    """
    proc, found = Path("/proc"), []
    if not proc.is_dir():
        return []
    target, own_group = directory.resolve(), os.getpgid(0)
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
            # Fields after the parenthesised command name: state ppid pgrp session tty_nr ...
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            group, session, tty = int(fields[2]), int(fields[3]), int(fields[4])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours to inspect
        inside = cwd == target or target in cwd.parents
        if inside and group == session and tty == 0 and group != own_group:
            found.append(int(entry.name))
            _signal_group(group, signal.SIGKILL)
    return found


def describe_exit(returncode: int | None) -> str:
    """A phrase for how a process ended: ``"exited with code 3"`` or ``"killed by signal SIGKILL"``."""
    if returncode is not None and returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"
