"""The heuristic Coder: replays the chosen move's edits on the exact current text and fixes imports."""

from __future__ import annotations

import re

from bot.agents.base import CoderReply, CoderRequest
from bot.errors import AgentError
from bot.ope.edit import add_import, locate, remove_unused_import
from bot.ope.moves import Edit, Import, decode_details
from bot.patch import make_diff


class HeuristicCoder:
    """Replays a heuristic Analysis's edits on the exact current files and returns the diff."""

    def write_diff(self, request: CoderRequest) -> CoderReply:
        """A git-style unified diff of the move in ``request.analysis.details``.

        Raises:
            AgentError: the analysis is not from the heuristic Analyzer, a call it edits is gone
                from the file, or the edited file no longer compiles.
        """
        try:
            edits, imports = decode_details(request.analysis.details)
        except (KeyError, ValueError, TypeError) as exc:
            raise AgentError(
                f"heuristic coder needs an analysis from the heuristic analyzer (details.edits): {exc}"
            ) from exc
        after = dict(request.files)
        for path in sorted({e.file for e in edits} | {i.file for i in imports}):
            if path not in after:
                raise AgentError(f"heuristic coder: {path} is not among the editable files")
            after[path] = _apply(path, after[path], [e for e in edits if e.file == path],
                                 [i for i in imports if i.file == path])
        changed = sorted(p for p in after if after[p] != request.files.get(p))
        if not changed:
            raise AgentError("heuristic coder: the move changes nothing in the current files")
        diff = make_diff({p: request.files[p] for p in changed}, {p: after[p] for p in changed})
        prompt = f"Apply the heuristic move:\n\n{request.analysis.plan}\n"
        if request.feedback:
            prompt += f"\nPrevious attempt was refused ({request.feedback}); calls re-located by text.\n"
        return CoderReply(diff=diff, prompt=prompt, response=diff)


def _apply(path: str, text: str, edits: list[Edit], imports: list[Import]) -> str:
    spans: list[tuple[int, int, str]] = []
    for edit in edits:
        span = locate(text, edit.old, edit.start)
        if span is None:
            raise AgentError(
                f"heuristic coder: `{' '.join(edit.old.split())[:80]}` is no longer in {path}; "
                "the file changed since the analysis, run the analyzer again"
            )
        spans.append((*span, edit.new))
    spans.sort(reverse=True)
    for (_, end, _), (next_start, _, _) in zip(spans[1:], spans, strict=False):
        if end > next_start:
            raise AgentError(f"heuristic coder: two edits overlap in {path}")
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    if not path.endswith(".py"):
        return text  # a configuration file naming a result key: plain text
    # Names the edits stopped calling (the swapped-out class) lose their import if nothing else uses it.
    gone = {_head(e.old) for e in edits} - {_head(e.new) for e in edits} - {""}
    try:
        for name in sorted(gone):
            text = remove_unused_import(text, name)
        for imp in imports:
            text = add_import(text, imp.module, imp.name)
        compile(text, path, "exec")
    except SyntaxError as exc:
        raise AgentError(f"heuristic coder: {path} would not compile after the edit: {exc}") from exc
    return text


def _head(call_text: str) -> str:
    match = re.match(r"\s*([A-Za-z_]\w*)", call_text)
    return match.group(1) if match else ""
