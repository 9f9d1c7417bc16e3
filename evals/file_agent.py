"""A command agent that hands each prompt to whoever watches a directory, and waits for the answer.

Used as ``loop.agent_command`` (or ``--agent-command``), it lets a person, or another process
driving any model, answer the bot's Analyzer and Coder prompts. In ``.growthhacker.yml``::

    loop:
      agent: command
      agent_command: python /path/to/evals/file_agent.py --dir /tmp/prompts --timeout 3500
      agent_timeout_s: 3600

or for the benchmark (``--agent-timeout`` sets ``loop.agent_timeout_s`` of every LLM run)::

    .venv/bin/python -m evals run --frameworks two_agent --backend command --agent-timeout 3600 \\
        --agent-command "$PWD/.venv/bin/python $PWD/evals/file_agent.py --dir /tmp/prompts --timeout 3500"

For every call it reads the prompt on stdin, writes it to ``DIR/NNNN-<role>.prompt.md`` (``NNNN``
counts calls, ``role`` is ``analyzer``, ``coder`` or ``agent``) and waits for
``DIR/NNNN-<role>.answer.md``; it then prints that answer on stdout and exits 0, which is all the
command backend needs. Write the answer to a temporary name in ``DIR`` and rename it into place, so
a half-written answer is never read. With no answer within ``--timeout`` seconds it exits 1 with a
message on stderr (keep ``--timeout`` below the bot's ``loop.agent_timeout_s``, which kills the
command). Standard library only: it runs with whatever Python the bot's environment has.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

PROMPT_SUFFIX = ".prompt.md"
ANSWER_SUFFIX = ".answer.md"


def role_of(prompt: str) -> str:
    """"analyzer", "coder" or "agent" (the single-shot framework and anything else)."""
    head = prompt[:2000]
    if "# Role: Analyzer" in head:
        return "analyzer"
    if "# Role: Coder" in head:
        return "coder"
    return "agent"


def write_prompt(directory: Path, prompt: str) -> Path:
    """Write ``prompt`` under the next free call number; returns the path of the answer to wait for.

    The number is claimed by creating ``NNNN.claim`` exclusively, so parallel calls never share one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    number = len(list(directory.glob("*.claim")))
    while True:
        try:
            os.close(os.open(directory / f"{number:04d}.claim", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            break
        except FileExistsError:
            number += 1
    stem = f"{number:04d}-{role_of(prompt)}"
    partial = directory / f".{stem}{PROMPT_SUFFIX}.partial"
    partial.write_text(prompt, encoding="utf-8")
    partial.rename(directory / f"{stem}{PROMPT_SUFFIX}")  # appears whole, never half-written
    return directory / f"{stem}{ANSWER_SUFFIX}"


def wait_for(answer: Path, timeout_s: float, poll_s: float) -> str | None:
    """The text of ``answer`` once it exists and is not empty; None after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            text = answer.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        if text.strip():
            return text
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll_s)


def main(argv: list[str] | None = None) -> int:
    """Run one call: prompt from stdin, answer on stdout. Returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--dir", required=True, type=Path, help="where prompts are written and answers read")
    parser.add_argument("--timeout", type=float, default=3000.0, help="seconds to wait for an answer")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between looks for the answer")
    args = parser.parse_args(argv)
    answer = write_prompt(args.dir, sys.stdin.read())
    print(f"file_agent: prompt written, waiting for {answer}", file=sys.stderr)
    text = wait_for(answer, args.timeout, args.poll)
    if text is None:
        print(f"file_agent: no answer in {answer} within {args.timeout:g} s", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
