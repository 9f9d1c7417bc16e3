"""The LLM Coder (hypothesis → one unified diff) and the single-agent ``default`` framework.

The Coder sees the exact current content of the files it is given, with line numbers — the loop
passes only editable files, and nothing else is ever read here — with the Analyzer's files first,
within a size cap, and what they are (the incumbent or the base commit); the harness's calls into
them come as read-only excerpts. In a repair round the prompt quotes the patch engine's exact error
and the refused diff.

The ``default`` framework is the baseline the benchmark compares the two-agent framework against:
:class:`SingleShotAnalyzer` makes no LLM call (it packages the objective into a fixed Analysis), and
:class:`SingleShotCoder` decides on a change and writes its diff in ONE call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bot.agents.analyzer import (
    CatalogSource,
    bounded_hints,
    catalog_text,
    describe_baseline,
    describe_files,
    describe_objective,
    describe_read_only,
)
from bot.agents.base import Analysis, AnalyzerContext, AnalyzerReply, CoderReply, CoderRequest
from bot.agents.llm import LLMClient, Prompt, clip, fence, language_of, render_template

_DIFF_FENCE = re.compile(
    r"^```+[ \t]*(?:diff|patch|udiff)[ \t]*\n(.*?)^```+[ \t]*$", re.DOTALL | re.MULTILINE
)
_DIFF_START = re.compile(r"^(?:diff --git |--- (?:a/|/dev/null))", re.MULTILINE)
_PREVIOUS_DIFF_CHARS = 20_000
_READ_ONLY_CHARS = 6_000


def extract_diff(text: str) -> str:
    """The unified diff in an answer: the ```diff fences joined, else the text from the first diff header.

    Returns the answer unchanged when it holds neither (the patch engine then reports why it failed).
    """
    blocks = _DIFF_FENCE.findall(text)
    if blocks:
        return "".join(block if block.endswith("\n") else block + "\n" for block in blocks)
    start = _DIFF_START.search(text)
    return text[start.start() :] if start else text


def numbered(text: str) -> str:
    """``text`` with each line as ``"  12 | line"`` (the line itself exactly, whitespace included)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    width = max(4, len(str(len(lines))))
    return "\n".join(f"{number:>{width}} | {line}" for number, line in enumerate(lines, 1))


def render_files(files: Mapping[str, str], first: Sequence[str], budget_chars: int) -> str:
    """Exact file contents with line numbers: ``first`` paths, then the rest, while under ``budget_chars``.

    The files named in ``first`` are always shown (the change cannot be written without them); the
    others are listed by name when they do not fit.
    """
    order = [path for path in first if path in files] + sorted(path for path in files if path not in first)
    blocks: list[str] = []
    left_out: list[str] = []
    used = 0
    for path in order:
        text = files[path]
        ending = "" if not text or text.endswith("\n") else " (no newline at the end of the last line)"
        count = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        block = f"### {path} ({count} lines{ending})\n" + fence(numbered(text), language_of(path))
        if path not in first and used + len(block) > budget_chars:
            left_out.append(f"{path} ({len(files[path])} characters)")
            continue
        blocks.append(block)
        used += len(block)
    if not blocks:
        return "(no editable files were given)"
    if left_out:
        names = ", ".join(left_out)
        blocks.append(f"Editable but not shown (too large for this prompt; do not edit them): {names}")
    return "\n\n".join(blocks)


def repair_section(request: CoderRequest) -> str:
    """The repair block of a retry: the engine's exact error and the refused diff ("" on a first attempt)."""
    if request.feedback is None:
        return ""
    previous = clip(request.previous_diff or "(no diff was found in your answer)", _PREVIOUS_DIFF_CHARS)
    return (
        f"## Repair round {request.attempt}: your previous diff was refused\n\n"
        f"The patch engine refused it with this exact error:\n\n{fence(request.feedback)}\n\n"
        f"Your previous diff (it was NOT applied; the files above are unchanged):\n\n"
        f"{fence(previous, 'diff')}\n\n"
        "Write a corrected diff against the current file contents shown above.\n"
    )


def coder_read_only(request: CoderRequest) -> str:
    """The read-only harness excerpts as a section of a Coder prompt ("" when there are none)."""
    body = describe_read_only(request.read_only, _READ_ONLY_CHARS)
    return f"## Read-only: how the harness calls this code (do not edit)\n\n{body}\n" if body else ""


class LLMCoder:
    """A :class:`~bot.agents.base.Coder` backed by any :class:`LLMClient`."""

    def __init__(self, client: LLMClient, *, file_chars: int = 120_000, max_tokens: int = 8192) -> None:
        self._client = client
        self._file_chars = file_chars
        self._max_tokens = max_tokens

    def build_prompt(self, request: CoderRequest) -> Prompt:
        """The prompt for ``request``: instructions, file contents, then the plan (and repair block)."""
        analysis = request.analysis
        system, context, task = render_template(
            "coder",
            {
                "files_are": describe_files(request.incumbent),
                "files": render_files(request.files, analysis.files, self._file_chars),
                "read_only": coder_read_only(request),
                "hypothesis": analysis.hypothesis,
                "persona": analysis.persona,
                "plan": analysis.plan or "(no plan given: implement the hypothesis directly)",
                "expected_effect": analysis.expected_effect or "(not stated)",
                "repair": repair_section(request),
            },
        )
        return Prompt(system=system, context=context, task=task, max_tokens=self._max_tokens)

    def write_diff(self, request: CoderRequest) -> CoderReply:
        """One call; the diff is extracted from the answer's ```diff fence.

        Raises:
            AgentError: the backend failed. BudgetExceeded: the call could exceed the budget.
        """
        return _ask(self._client, self.build_prompt(request))


SINGLE_SHOT_HYPOTHESIS = "single-shot (default framework): one LLM call chose and implemented the change"


class SingleShotAnalyzer:
    """The ``default`` framework's Analyzer: no LLM call, a fixed Analysis whose plan is the task brief.

    The brief holds the objective, guardrails, baseline and human hints, but not the journal: the
    baseline framework has no memory across iterations.
    """

    def analyze(self, context: AnalyzerContext) -> AnalyzerReply:
        """Returns the fixed single-shot Analysis (no usage, no prompt); never raises."""
        goal, rails = describe_objective(context.objective, context.guardrails)
        baseline = describe_baseline(context.baseline)
        brief = (
            f"{goal}\n\nGuardrails:\n{rails}\n\nBaseline metrics (mean over the search seeds):\n"
            f"{baseline}\n\nHuman hints:\n{bounded_hints(context.hints, 8000)}\n\n"
            f"Iteration {context.iteration} of {context.iterations}."
        )
        analysis = Analysis(
            hypothesis=SINGLE_SHOT_HYPOTHESIS,
            persona="estimator",
            plan=brief,
            details={"framework": "default"},
        )
        return AnalyzerReply(analysis=analysis, prompt="", response=analysis.model_dump_json(indent=2))


class SingleShotCoder:
    """The ``default`` framework's Coder: decides and writes the diff in one call."""

    def __init__(
        self,
        client: LLMClient,
        *,
        catalog: str | CatalogSource,
        file_chars: int = 120_000,
        max_tokens: int = 8192,
    ) -> None:
        self._client = client
        self._catalog = catalog
        self._file_chars = file_chars
        self._max_tokens = max_tokens

    def build_prompt(self, request: CoderRequest) -> Prompt:
        """Instructions and catalog, all file contents, then the task brief (and repair block)."""
        system, context, task = render_template(
            "single_shot",
            {
                "catalog": catalog_text(self._catalog, request.files),
                "files_are": describe_files(request.incumbent),
                "files": render_files(request.files, request.analysis.files, self._file_chars),
                "read_only": coder_read_only(request),
                "brief": request.analysis.plan,
                "repair": repair_section(request),
            },
        )
        return Prompt(system=system, context=context, task=task, max_tokens=self._max_tokens)

    def write_diff(self, request: CoderRequest) -> CoderReply:
        """One call that both decides and implements.

        Raises:
            AgentError: the backend failed. BudgetExceeded: the call could exceed the budget.
        """
        return _ask(self._client, self.build_prompt(request))


def _ask(client: LLMClient, prompt: Prompt) -> CoderReply:
    """One completion, its unified diff extracted from the answer's ```diff fence."""
    completion = client.complete(prompt)
    return CoderReply(
        diff=extract_diff(completion.text),
        prompt=completion.prompt,
        response=completion.text,
        usage=completion.usage,
    )
