"""What every command shares: the console, the error → exit code mapping, the eval environment."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
from rich.console import Console

from bot.errors import GrowthHackerError

console = Console(highlight=False)
F = TypeVar("F", bound=Callable[..., Any])


class CLIError(click.ClickException):
    """A GrowthHackerError shown as a one-line message with the error's own exit code."""

    def __init__(self, error: GrowthHackerError) -> None:
        super().__init__(str(error))
        # click reads exit_code per instance; the error tree decides it per class.
        self.exit_code = error.exit_code  # type: ignore[misc]


def errors_to_exit_codes(func: F) -> F:
    """Wrap a command so a :class:`GrowthHackerError` exits with its class's code (bot/errors.py)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GrowthHackerError as exc:
            raise CLIError(exc) from exc

    return wrapper  # type: ignore[return-value]


def eval_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment an evaluation starts from (before :func:`bot.process.scrub_env`): ``environ``.

    The eval command's ``python`` is the caller's: the job's Python on GitHub (where the workflow's
    install step put the target's dependencies), the user's activated environment locally. The bot's
    own interpreter is deliberately not put on PATH: its packages (numpy, pydantic, anthropic, …)
    would shadow the target's, and the evaluation would measure the bot's environment.
    """
    return dict(environ)


def with_bot_interpreter(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with this interpreter's bin directory first on PATH: only for the bundled example.

    The demo runs the example that ships with the bot, whose dependencies are the bot's own ``ope``
    extra; every repository of the user's runs under :func:`eval_environ` instead.
    """
    bin_dir = str(Path(sys.executable).parent)
    return {**environ, "PATH": os.pathsep.join([bin_dir, environ.get("PATH", os.defpath)])}


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`KeyboardInterrupt` as Ctrl-C does (then restored).

    GitHub's runner stops a cancelled or timed-out job with SIGINT, then SIGTERM; both now unwind
    through the clean-shutdown path (``finally`` blocks, the children's process groups killed, the
    records of finished iterations handed on) instead of ending the process where it stands.
    Outside the main thread (where signals cannot be handled) it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def existing_dir() -> click.Path:
    """The click type of a REPO argument or option: an existing directory, as a Path."""
    return click.Path(exists=True, file_okay=False, path_type=Path)
