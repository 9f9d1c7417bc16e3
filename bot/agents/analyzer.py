"""The LLM Analyzer: builds a bounded, journal-driven prompt and parses a validated :class:`Analysis`.

Prompt size is capped (``prompt_tokens``, estimated as characters / 4) however long the journal grows:
file excerpts, the catalog, the read-only harness excerpts and hints get fixed shares, the journal
(:mod:`bot.agents.journal_text`) gets the rest and is cut from its end — it is sorted best first, so
the worst attempts are the ones left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from bot.agents.base import Analysis, AnalyzerContext, AnalyzerReply
from bot.agents.journal_text import JournalFrame, describe_baseline_noise, one_line, render_journal
from bot.agents.llm import (
    CHARS_PER_TOKEN,
    Completion,
    LLMClient,
    Prompt,
    clip,
    fence,
    render_template,
    untrusted,
)
from bot.agents.personas import directive, persona_list
from bot.config import Guardrail, Objective
from bot.errors import AgentError
from bot.harness import ReadOnlyExcerpt
from bot.results import Attempt

_FENCED_JSON = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)
#: Shares of the prompt cap for the parts that do not shrink with the journal.
_FILES_SHARE = 0.35
_CATALOG_SHARE = 0.15
_READ_ONLY_SHARE = 0.1
_HINTS_SHARE = 0.06
#: Builds the OPE catalog for the editable files (path → content) a prompt shows.
CatalogSource = Callable[[Mapping[str, str]], str]


def catalog_text(catalog: str | CatalogSource, files: Mapping[str, str]) -> str:
    """The catalog for ``files``: ``catalog`` itself when it is fixed text."""
    return catalog if isinstance(catalog, str) else catalog(files)
_HINT_CHARS = 1500
_PREVIOUS_ANSWER_CHARS = 4000


def excerpt_files(files: Mapping[str, str], budget_chars: int) -> str:
    """Every file with line numbers, cut to share ``budget_chars``; small files give their unused share to
    larger ones. Returns markdown, one fenced block per file, in path order."""
    if not files:
        return "(no editable files were found)"
    shown: dict[str, str] = {}
    remaining = budget_chars
    by_size = sorted(files, key=lambda path: len(files[path]))
    for index, path in enumerate(by_size):
        share = remaining // (len(by_size) - index)
        shown[path] = _numbered(path, files[path], share)
        remaining -= len(shown[path])
    return "\n\n".join(shown[path] for path in sorted(files))


def _numbered(path: str, text: str, limit: int) -> str:
    lines = text.splitlines()
    out: list[str] = []
    used = len(path) + 40
    for number, line in enumerate(lines, start=1):
        row = f"{number:>4} | {line}".rstrip()
        if used + len(row) + 1 > limit:
            out.append(f"… ({len(lines) - number + 1} more lines not shown)")
            break
        out.append(row)
        used += len(row) + 1
    return f"### {path} ({len(lines)} lines)\n" + fence("\n".join(out))


def bounded_hints(hints: Sequence[str], budget_chars: int) -> str:
    """Human hints as an untrusted-data block: each clipped, later ones dropped beyond ``budget_chars``."""
    kept: list[str] = []
    used = 400  # the block's own preamble
    for hint in hints:
        text = clip(hint, _HINT_CHARS)
        if used + len(text) > budget_chars:
            break
        kept.append(text)
        used += len(text) + 4
    if len(kept) < len(hints):
        kept.append(f"({len(hints) - len(kept)} more hints omitted for length)")
    return untrusted("human-hints", kept)


def describe_objective(objective: Objective, guardrails: Sequence[Guardrail]) -> tuple[str, str]:
    """Markdown for the objective and the guardrail list."""
    better = "lower" if objective.goal == "minimize" else "higher"
    goal = f"Optimise `{objective.metric}`: {objective.goal} it ({better} is better)."
    if not guardrails:
        return goal, "- (none)"
    rails = [
        f"- `{rail.metric}` ({rail.goal}) may get worse by at most {rail.max_regression * 100:.0f}%"
        for rail in guardrails
    ]
    return goal, "\n".join(rails)


def describe_read_only(excerpts: Sequence[ReadOnlyExcerpt], budget_chars: int) -> str:
    """Read-only excerpts as numbered, fenced blocks sharing ``budget_chars``; "" when there are none."""
    if not excerpts:
        return ""
    share = budget_chars // len(excerpts)
    blocks = [
        f"### {excerpt.path} (read-only: {excerpt.why})\n{fence(excerpt.render(max(share - 200, 0)))}"
        for excerpt in excerpts
    ]
    return "\n\n".join(blocks)


def describe_files(incumbent: Attempt | None) -> str:
    """What the editable files are: the incumbent (base commit plus its diff) or the base commit."""
    if incumbent is None:
        return "the base commit (no candidate has beaten the baseline yet in this run)"
    return (
        f"the incumbent, iteration {incumbent.iteration} of this run: the base commit plus its diff "
        f"({one_line(clip(incumbent.hypothesis, 200))})"
    )


def describe_baseline(baseline: Mapping[str, float]) -> str:
    """Markdown bullet list of the baseline metrics."""
    rows = [f"- `{name}`: {value:.6g}" for name, value in sorted(baseline.items())]
    return "\n".join(rows) or "- (not measured)"


def extract_json(text: str) -> Any:
    """The first JSON object in ``text``: inside a ```json fence if any, else anywhere in the prose.

    Raises:
        ValueError: no JSON object could be decoded; the message says what was found instead.
    """
    candidates = [block.strip() for block in _FENCED_JSON.findall(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start in (index for index, char in enumerate(candidate) if char == "{"):
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    raise ValueError("no JSON object found in the answer (expected one object in a ```json fence)")


def parse_analysis(text: str, files: Collection[str]) -> Analysis:
    """Validate an Analyzer answer. File paths the Analyzer was not given are dropped.

    Raises:
        AgentError: no JSON object, or it does not match the schema; the message quotes the problem
            so it can be sent back to the model.
    """
    try:
        data = extract_json(text)
    except ValueError as exc:
        raise AgentError(str(exc)) from exc
    persona = data.get("persona")
    if isinstance(persona, str):
        data["persona"] = re.sub(r"[\s_]+", "-", persona.strip().lower())
    try:
        analysis = Analysis.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<root>'}: {error['msg']}"
            for error in exc.errors()
        )
        raise AgentError(f"the JSON object does not match the schema: {problems}") from exc
    return analysis.model_copy(update={"files": [path for path in analysis.files if path in files]})


def round_note(proposed: list[str]) -> str:
    """The directive's addition in a round of several proposals (``loop.round_size``): what this
    round already proposed, so the Analyzer proposes something else ("" when nothing was)."""
    if not proposed:
        return ""
    listed = "\n".join(f"- {clip(hypothesis, 300)}" for hypothesis in proposed)
    return ("\n\nAlready proposed in this round, evaluated alongside yours (results not known yet); "
            f"propose something different:\n{listed}")


class LLMAnalyzer:
    """An :class:`~bot.agents.base.Analyzer` backed by any :class:`LLMClient`."""

    def __init__(
        self,
        client: LLMClient,
        *,
        catalog: str | CatalogSource,
        prompt_tokens: int = 30_000,
        max_tokens: int = 2048,
    ) -> None:
        self._client = client
        self._catalog = catalog
        self.prompt_tokens = prompt_tokens
        self._max_tokens = max_tokens

    def build_prompt(self, context: AnalyzerContext) -> Prompt:
        """The first prompt for ``context``, within ``prompt_tokens`` (estimated)."""
        cap = self.prompt_tokens * CHARS_PER_TOKEN
        goal, rails = describe_objective(context.objective, context.guardrails)
        frame = JournalFrame.of(context)
        read_only = describe_read_only(context.read_only, int(cap * _READ_ONLY_SHARE))
        values = {
            "personas": persona_list(),
            "catalog": clip(catalog_text(self._catalog, context.files), int(cap * _CATALOG_SHARE)),
            "files_are": describe_files(context.incumbent),
            "files": excerpt_files(context.files, int(cap * _FILES_SHARE)),
            "read_only": read_only or "(no call into the editable files was found in the harness)",
            "objective": goal,
            "guardrails": rails,
            "baseline": describe_baseline_noise(frame, context.baseline),
            "hints": bounded_hints(context.hints, int(cap * _HINTS_SHARE)),
            "directive": directive(context.iteration, context.iterations, context.attempts)
            + round_note(context.proposed),
            "journal": "",
        }
        fixed = sum(len(part) for part in render_template("analyzer", values))
        values["journal"] = render_journal(context.attempts, max(0, cap - fixed), frame)
        system, files, task = render_template("analyzer", values)
        return Prompt(system=system, context=files, task=task, max_tokens=self._max_tokens)

    def analyze(self, context: AnalyzerContext) -> AnalyzerReply:
        """Ask for a proposal; on an invalid answer, ask once more quoting the validation error.

        Raises:
            AgentError: the second answer is invalid too, or the backend failed.
            BudgetExceeded: a call could exceed the budget.
        """
        prompt = self.build_prompt(context)
        first = self._client.complete(prompt)
        try:
            analysis = parse_analysis(first.text, context.files)
        except AgentError as problem:
            second = self._client.complete(_repair_prompt(prompt, first.text, str(problem)))
            try:
                analysis = parse_analysis(second.text, context.files)
            except AgentError as again:
                raise AgentError(
                    f"the Analyzer gave no valid proposal after one repair request: {again}"
                ) from again
            return _reply(analysis, first, second)
        return _reply(analysis, first)


def _repair_prompt(prompt: Prompt, previous: str, problem: str) -> Prompt:
    task = (
        f"{prompt.task}\n\n## Your previous answer could not be used\n\n"
        f"Validation error: {problem}\n\nYour previous answer was:\n"
        f"{fence(clip(previous, _PREVIOUS_ANSWER_CHARS))}\n\n"
        "Reply again with ONLY one valid JSON object with the keys hypothesis, persona (one of "
        "estimator, regression-model, hyperparameter, data-handling), plan, expected_effect, files."
    )
    return Prompt(system=prompt.system, context=prompt.context, task=task, max_tokens=prompt.max_tokens)


def _reply(analysis: Analysis, *calls: Completion) -> AnalyzerReply:
    separator = "\n\n<!-- next call: repair request -->\n\n"
    usage = calls[0].usage
    for call in calls[1:]:
        usage = usage + call.usage
    return AnalyzerReply(
        analysis=analysis,
        prompt=separator.join(call.prompt for call in calls),
        response=separator.join(call.text for call in calls),
        usage=usage,
    )
