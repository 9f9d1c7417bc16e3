"""Any executable as an LLM: the prompt goes to its stdin, the answer is read from its stdout.

This lets users plug in a CLI agent or a local model. The child runs through
:func:`bot.process.run_process`: a scrubbed environment (no variable whose name looks secret, unless
passed through by name), its own process group, a timeout after which the whole group is killed, and
bounded output (an answer longer than any answer may be is refused, never held in memory whole).
Token counts are estimates (characters / 4); the dollar cost is unknown and reported as 0.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.agents.base import Usage
from bot.agents.budget import Budget
from bot.agents.llm import MAX_ANSWER_CHARS, Completion, Prompt, check_answer_size, estimate_tokens
from bot.errors import AgentError
from bot.process import ProcessResult, run_process
from bot.redact import is_secret_name, scrub, secret_values

_STDERR_TAIL = 2000
#: Output kept of the command (stdout and stderr each): UTF-8 needs at most 4 bytes a character, so
#: every answer :func:`~bot.agents.llm.check_answer_size` accepts fits; a longer one is refused.
_ANSWER_BYTES = 4 * MAX_ANSWER_CHARS


def child_environment(environ: Mapping[str, str], pass_env: Sequence[str] = ()) -> dict[str, str]:
    """``environ`` without secret-looking variables, except those named in ``pass_env``."""
    allowed = set(pass_env)
    return {name: value for name, value in environ.items() if name in allowed or not is_secret_name(name)}


class CommandClient:
    """Runs ``command`` once per prompt.

    ``command`` is split like a shell would (``shlex``) but run without a shell, so quoting works
    and nothing in it is interpreted by ``sh``. Raises :class:`AgentError` when ``command`` is blank
    or cannot be split (an unclosed quote).
    """

    def __init__(
        self,
        command: str,
        *,
        environ: Mapping[str, str],
        timeout_s: float = 600.0,
        cwd: Path | None = None,
        budget: Budget | None = None,
        pass_env: Sequence[str] = (),
    ) -> None:
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            # Not the command itself in the message: it may carry a key, and the message is shown.
            raise AgentError(
                f"cannot split the agent command like a shell would ({exc}): check its quotes"
            ) from exc
        if not self.argv:
            raise AgentError("the agent command is empty: pass --agent-command '<executable> [args]'")
        self._env = child_environment(environ, pass_env)
        # Secrets are scrubbed from the prompt even when passed through to the child by name.
        self._secrets = secret_values(environ)
        self._timeout = timeout_s
        self._cwd = cwd
        self._budget = budget if budget is not None else Budget()

    def complete(self, prompt: Prompt) -> Completion:
        """Pipe the rendered (scrubbed) prompt to the command and return its stdout.

        Raises:
            BudgetExceeded: the prompt alone would pass the token budget; nothing was run.
            AgentError: the command is missing, timed out, exited non-zero, printed nothing or more
                than :data:`~bot.agents.llm.MAX_ANSWER_CHARS`; the message includes the tail of its stderr.
        """
        text = prompt.scrubbed(self._secrets).render()
        self._budget.reserve(Usage(input_tokens=estimate_tokens(text)))
        result = self._run(text)
        answer = scrub(result.stdout.decode("utf-8", "replace"), self._secrets)
        stderr = result.stderr.decode("utf-8", "replace")
        usage = Usage(input_tokens=estimate_tokens(text), output_tokens=estimate_tokens(answer))
        self._budget.record(usage)
        if result.returncode != 0:
            tail = self._tail(stderr) or "(empty)"
            code = result.returncode
            raise AgentError(f"agent command {self.argv[0]!r} exited with {code}; stderr: {tail}")
        if result.stdout_elided:
            raise AgentError(
                f"agent command {self.argv[0]!r} printed more than {_ANSWER_BYTES:,} bytes on stdout, more "
                "than an answer may have; it was discarded (ask for one unified diff of the files to change)"
            )
        if not answer.strip():
            raise AgentError(
                f"agent command {self.argv[0]!r} printed nothing on stdout; stderr: "
                f"{self._tail(stderr) or '(empty)'}"
            )
        check_answer_size(answer, f"agent command {self.argv[0]!r}")
        return Completion(text=answer, prompt=text, usage=usage)

    def _run(self, text: str) -> ProcessResult:
        try:
            result = run_process(
                self.argv,
                self._cwd or Path.cwd(),
                self._env,
                self._timeout,
                stdin=text.encode("utf-8"),
                output_limit=_ANSWER_BYTES,
                merge_stderr=False,
            )
        except OSError as exc:
            raise AgentError(f"cannot run agent command {self.argv[0]!r}: {exc.strerror or exc}") from exc
        if result.timed_out:
            # run_process killed the whole group: a wrapper script's children do not outlive it.
            raise AgentError(
                f"agent command {self.argv[0]!r} did not answer within {self._timeout:g}s and was killed"
            )
        return result

    def _tail(self, stderr: str) -> str:
        return scrub(stderr.strip()[-_STDERR_TAIL:], self._secrets)
