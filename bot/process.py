"""Every process the bot starts runs through :func:`run_process`: own session, timeout, bounded output.

What the bot runs is often machine-influenced (candidate code, repository checks, an agent command),
so each process runs in its own session (the whole process group is killed on timeout, and anything
it leaves running is killed when it exits), gets exactly the environment the caller passes, and has
its output read incrementally into bounded buffers while its stdin (if any) is fed without blocking.

Built on it: :func:`run_command` (a shell command with an allow-listed environment, see
:func:`scrub_env`; :mod:`bot.evaluate` runs each seed with it), :mod:`bot.git` (every ``git``, output
unbounded because it is data) and :mod:`bot.agents.command_backend` (the prompt on stdin).
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
from typing import IO

from bot.errors import EvaluationError
from bot.redact import is_secret_name, scrub

ALLOWED_ENV: tuple[str, ...] = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM", "USER", "LOGNAME", "SHELL",
    "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MPLBACKEND",
    "CUDA_VISIBLE_DEVICES", "SOURCE_DATE_EPOCH",
    # Where the runtime finds its libraries and interpreter (self-hosted runners, conda, setup-python):
    # not secrets, and an evaluation without them may not start at all.
    "LD_LIBRARY_PATH", "PYTHONIOENCODING", "PYTHONUTF8", "CONDA_PREFIX", "pythonLocation",
    "Python_ROOT_DIR", "Python3_ROOT_DIR", "PKG_CONFIG_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR",
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
class ProcessResult:
    """How a process ended and what it printed.

    Each stream is bounded by the ``output_limit`` it was run with (head and tail kept, the middle
    replaced by a marker); ``stdout_elided`` counts the bytes of stdout that were dropped (0: complete).
    """

    returncode: int | None  # None if killed on timeout
    timed_out: bool
    stdout: bytes  # stdout and stderr combined when run with merge_stderr
    stderr: bytes
    stdout_elided: int
    duration_s: float


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
    """Keeps the first and last ``limit // 2`` bytes of a stream and counts what falls between
    (everything when ``limit`` is None)."""

    def __init__(self, limit: int | None) -> None:
        self._head_limit = -1 if limit is None else limit // 2
        self._tail_limit = 0 if limit is None else limit - self._head_limit
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0

    def feed(self, chunk: bytes) -> None:
        self._total += len(chunk)
        if self._head_limit < 0:
            self._head += chunk
            return
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        self._tail += chunk
        # Trim only when twice over the limit so trimming stays amortised O(1) per byte.
        if len(self._tail) > 2 * self._tail_limit:
            del self._tail[: len(self._tail) - self._tail_limit]

    def _kept_tail(self) -> bytes:
        return bytes(self._tail[-self._tail_limit :]) if self._tail_limit else b""

    @property
    def elided(self) -> int:
        """How many bytes fell between the head and the tail."""
        return self._total - len(self._head) - len(self._kept_tail())

    def data(self) -> bytes:
        """Head, an elision marker if anything was dropped, tail."""
        tail, dropped = self._kept_tail(), self.elided
        if dropped <= 0:
            return bytes(self._head) + tail
        return bytes(self._head) + f"\n[... {dropped} bytes of output elided ...]\n".encode() + tail


class _Pump:
    """Reads the output pipes and feeds the input pipe without blocking for longer than asked."""

    def __init__(self, outputs: Mapping[int, _BoundedOutput], stdin: tuple[IO[bytes], bytes] | None) -> None:
        self._open = dict(outputs)
        self._idle_sleep = 0.001
        self._poller = select.poll()
        for fd in outputs:
            self._poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        self._stdin_pipe: IO[bytes] | None = None if stdin is None else stdin[0]
        self._stdin = memoryview(b"" if stdin is None else stdin[1])
        if self._stdin_pipe is not None:
            os.set_blocking(self._stdin_pipe.fileno(), False)
            self._poller.register(self._stdin_pipe.fileno(), select.POLLOUT | select.POLLERR)
            if not self._stdin:
                self.close_stdin()

    @property
    def eof(self) -> bool:
        """Every output pipe is closed."""
        return not self._open

    def close_stdin(self) -> None:
        """Close the input pipe (the child reads EOF); idempotent."""
        if self._stdin_pipe is not None:
            self._poller.unregister(self._stdin_pipe.fileno())
            with contextlib.suppress(OSError):  # EPIPE flushing nothing: the child is gone
                self._stdin_pipe.close()
            self._stdin_pipe = None

    def read_for(self, seconds: float) -> None:
        """Wait up to ``seconds`` for output (or room in the input pipe) and move one chunk."""
        if self.eof and self._stdin_pipe is None:
            # Nothing left to wait on but the exit itself, which usually follows the pipe closing
            # within a millisecond or two: back off from 1 ms instead of sleeping a full poll.
            time.sleep(max(min(seconds, self._idle_sleep), 0.0))
            self._idle_sleep = min(2 * self._idle_sleep, _POLL_S)
            return
        stdin_fd = -1 if self._stdin_pipe is None else self._stdin_pipe.fileno()
        for fd, _ in self._poller.poll(max(seconds, 0.0) * 1000):
            if fd == stdin_fd:
                self._write_stdin(fd)
            elif fd in self._open:
                chunk = os.read(fd, _CHUNK)
                if chunk:
                    self._open[fd].feed(chunk)
                else:
                    self._poller.unregister(fd)
                    del self._open[fd]

    def _write_stdin(self, fd: int) -> None:
        try:
            written = os.write(fd, self._stdin[:_CHUNK])
        except BlockingIOError:
            return
        except OSError:  # the child closed its stdin (or exited): what it did not read is its business
            written = len(self._stdin)
        self._stdin = self._stdin[written:]
        if not self._stdin:
            self.close_stdin()


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
        raise OSError(f"process {proc.pid} survived SIGKILL for {_REAP_S:g} s") from None


def _pump_until(proc: subprocess.Popen[bytes], pump: _Pump, deadline: float, need_eof: bool) -> bool:
    """Read output until the leader has exited (and, if asked, the pipes closed); False on deadline."""
    while True:
        if _leader_exited(proc) and (pump.eof or not need_eof):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        pump.read_for(min(_POLL_S, remaining))


def run_process(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    *,
    stdin: bytes | None = None,
    output_limit: int | None = 64_000,
    merge_stderr: bool = True,
) -> ProcessResult:
    """Run ``argv`` (no shell) in a new session and wait for it, at most ``timeout_s`` seconds.

    ``stdin`` bytes are fed to the process while its output is read (stdin is /dev/null when None).
    On timeout the process group gets SIGTERM, then SIGKILL after a grace period; processes it left
    running after it exited are killed too. Each output stream is read incrementally and kept within
    ``output_limit`` bytes (head and tail, the middle elided with a marker; None: everything). With
    ``merge_stderr`` stderr goes into stdout and :attr:`ProcessResult.stderr` is empty.

    Returns:
        The :class:`ProcessResult` (``returncode`` None if killed on timeout).

    Raises:
        OSError: the process could not be started (``cwd`` or the executable missing), or it survived
            SIGKILL. Callers wrap this in their own error.
    """
    start = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        start_new_session=True,
        bufsize=0,
    )
    assert proc.stdout is not None  # stdout=PIPE
    out, err = _BoundedOutput(output_limit), _BoundedOutput(output_limit)
    streams = {proc.stdout.fileno(): out} | ({proc.stderr.fileno(): err} if proc.stderr else {})
    pump = _Pump(streams, None if proc.stdin is None or stdin is None else (proc.stdin, stdin))
    try:
        finished = _pump_until(proc, pump, start + timeout_s, need_eof=False)
        if not finished:
            _signal_group(proc.pid, signal.SIGTERM)
            _pump_until(proc, pump, time.monotonic() + _KILL_GRACE_S, need_eof=True)
        pump.close_stdin()
        _signal_group(proc.pid, signal.SIGKILL)
        returncode = _reap(proc)
        drain_deadline = time.monotonic() + _DRAIN_S
        while not pump.eof and time.monotonic() < drain_deadline:
            pump.read_for(min(_POLL_S, drain_deadline - time.monotonic()))
    finally:
        pump.close_stdin()
        if proc.returncode is None:  # interrupted (e.g. KeyboardInterrupt): leave nothing behind
            _signal_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=_REAP_S)
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
    return ProcessResult(
        returncode=returncode if finished else None,
        timed_out=not finished,
        stdout=out.data(),
        stderr=err.data(),
        stdout_elided=out.elided,
        duration_s=time.monotonic() - start,
    )


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
    """Run ``command`` with ``/bin/sh -c`` through :func:`run_process`, stdin from /dev/null, stderr
    merged into stdout; ``redact`` values are replaced by ``***`` in the output. If ``log_path`` is
    given, the bounded output is written there.

    Returns:
        The :class:`CommandResult` (``returncode`` None if killed on timeout).

    Raises:
        EvaluationError: the command could not be started (``cwd`` missing, no ``/bin/sh``) or the
            log could not be written.
    """
    try:
        result = run_process(["/bin/sh", "-c", command], cwd, env, timeout_s, output_limit=output_limit)
    except OSError as exc:
        raise EvaluationError(f"cannot run `{command}` in {cwd}: {exc}") from exc
    output = scrub(result.stdout.decode("utf-8", errors="replace"), redact)
    if log_path is not None:
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(output, encoding="utf-8")
        except OSError as exc:
            raise EvaluationError(f"cannot write the log {log_path}: {exc}") from exc
    return CommandResult(result.returncode, result.timed_out, output, result.duration_s)


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
