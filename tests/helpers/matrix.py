"""Job matrices (``jobs.<job_id>.strategy``), expanded and concluded as GitHub does, for the fake runner.

Modelled from GitHub's docs ("Running variations of jobs in a workflow", "Workflow syntax":
``jobs.<job_id>.strategy``, ``…matrix.include``/``exclude``, ``fail-fast``, ``max-parallel``;
"Passing information between jobs": outputs of a matrix job; "Contexts": ``needs``, ``strategy``):

- the combinations are the product of the matrix's keys, each a list, in GitHub's creation order
  (the first key varies slowest: ``{a: [1, 2], b: [x, y]}`` gives 1x, 1y, 2x, 2y);
- ``exclude`` first: a combination goes if it matches every key:value pair of one entry (a partial
  entry excludes every combination it matches); an entry naming a key the matrix lacks is an error;
- then ``include``, entry by entry: its pairs are added to every product combination whose original
  values it would not change (values added by an earlier entry may be overwritten); an entry added
  to none becomes a combination of its own, which later entries never extend (GitHub's
  fruit/animal example is ``test_include_extends_and_adds_as_github_documents``);
- the matrix, a key's list, ``include`` or ``exclude`` may be one ``${{ }}`` expression (say
  ``fromJSON(needs.plan.outputs.shards)``), evaluated with the job's ``github``, ``needs``,
  ``inputs``, ``vars`` (the contexts ``strategy`` may use); it must give the shape the YAML would;
- what GitHub rejects raises ValueError: a key with no values or a non-list, no combination at
  all, more than 256, a value that is an object or a list (the fake does not know how GitHub names
  such an instance), two instances with one name;
- an instance is named ``<job id> (<its values in order, include's too>)``, e.g. ``search (0)`` —
  GitHub's name for a matrix job without ``name:`` (the fake keys every job by its id);
- ``fail-fast`` (default true) and ``max-parallel`` (default: every instance at once) are read into
  the ``strategy`` context; the runner runs instances one after another, so ``max-parallel`` changes
  nothing there;
- ``needs.<job>.result`` of a whole matrix (:func:`matrix_result`) and ``needs.<job>.outputs``
  (:func:`matrix_outputs`: every instance's, the last one to set an output to a non-empty value
  winning, as GitHub combines them).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.helpers.expressions import render, to_string

#: GitHub's limit on the jobs one matrix generates per workflow run.
MAX_COMBINATIONS = 256


@dataclass(frozen=True)
class Instance:
    """One job of a workflow run: a job, or one combination of a matrix job."""

    job_id: str
    #: ``search`` for a plain job, ``search (0)`` for a matrix instance.
    name: str
    #: The ``matrix`` context (empty for a job without a matrix).
    matrix: dict[str, Any] = field(default_factory=dict)
    #: The ``strategy`` context (``fail-fast``, ``job-index``, ``job-total``, ``max-parallel``).
    strategy: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """A directory (and token) name for it: the job id, with the instance's index for a matrix."""
        return self.job_id if not self.matrix else f"{self.job_id}-{self.strategy['job-index']}"


def _evaluated(value: Any, contexts: Mapping[str, Any]) -> Any:
    """``value`` with a whole-value ``${{ }}`` evaluated (and any inside a string rendered)."""
    return render(value, contexts) if isinstance(value, str) else value


def _vector(key: str, values: Any, contexts: Mapping[str, Any]) -> list[Any]:
    values = _evaluated(values, contexts)
    if not isinstance(values, list):
        raise ValueError(f"matrix key {key!r} is {values!r}, not a list of values")
    if not values:
        raise ValueError(f"Matrix vector '{key}' does not contain any values")
    return [_evaluated(v, contexts) for v in values]


def _entries(kind: str, entries: Any, contexts: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = _evaluated(entries, contexts)
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"matrix {kind} must be a list of mappings, not {entries!r}")
    return [{k: _evaluated(v, contexts) for k, v in e.items()} for e in entries]


def expand_matrix(strategy: Mapping[str, Any], contexts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The combinations of ``strategy["matrix"]``, in the order GitHub creates the jobs.

    Raises:
        ValueError: the matrix is not one GitHub would expand (see the module docstring).
    """
    matrix = _evaluated(strategy.get("matrix"), contexts)
    if not isinstance(matrix, dict):
        raise ValueError(f"strategy.matrix must be a mapping, not {matrix!r}")
    vectors = {k: _vector(k, v, contexts) for k, v in matrix.items() if k not in ("include", "exclude")}
    exclude = _entries("exclude", matrix.get("exclude"), contexts)
    include = _entries("include", matrix.get("include"), contexts)
    for entry in exclude:
        unknown = set(entry) - set(vectors)
        if unknown:
            raise ValueError(f"Matrix exclude key(s) {sorted(unknown)} match no key of the matrix")
    product = [dict(zip(vectors, values, strict=True)) for values in itertools.product(*vectors.values())
               ] if vectors else []
    kept = [c for c in product if not any(all(c[k] == v for k, v in e.items()) for e in exclude)]
    added: list[dict[str, Any]] = []
    for entry in include:
        # Only the product's own values are protected; what an earlier include added may change.
        targets = [c for c in kept if all(c[k] == v for k, v in entry.items() if k in vectors)]
        for combination in targets:
            combination.update(entry)
        if not targets:
            added.append(dict(entry))
    combinations = kept + added
    if not combinations:
        raise ValueError("the matrix has no combination (every one excluded, none included)")
    if len(combinations) > MAX_COMBINATIONS:
        raise ValueError(f"the matrix has {len(combinations)} combinations: GitHub allows {MAX_COMBINATIONS}")
    return combinations


def instance_name(job_id: str, combination: Mapping[str, Any]) -> str:
    """GitHub's name for the instance of matrix job ``job_id`` with ``combination``: ``search (0)``.

    Raises:
        ValueError: a value is an object or a list (not modelled).
    """
    nested = [k for k, v in combination.items() if isinstance(v, dict | list)]
    if nested:
        raise ValueError(f"matrix value(s) {nested} of {job_id} are objects: the fake runner does not "
                         "know how GitHub names such an instance")
    return f"{job_id} ({', '.join(to_string(v) for v in combination.values())})"


def job_instances(job_id: str, job: Mapping[str, Any], contexts: Mapping[str, Any]) -> list[Instance]:
    """The jobs ``job`` becomes in a run: itself, or one per combination of its matrix.

    Raises:
        ValueError: the matrix is not one GitHub would expand, or two instances share a name.
    """
    strategy = job.get("strategy") or {}
    if "matrix" not in strategy:
        return [Instance(job_id, job_id, {}, {"fail-fast": True, "job-index": 0, "job-total": 1,
                                              "max-parallel": 1})]
    combinations = expand_matrix(strategy, contexts)
    fail_fast = _evaluated(strategy.get("fail-fast", True), contexts)
    max_parallel = _evaluated(strategy.get("max-parallel", len(combinations)), contexts)
    instances = [
        Instance(job_id, instance_name(job_id, combination), combination, {
            "fail-fast": fail_fast is True or to_string(fail_fast) == "true", "job-index": index,
            "job-total": len(combinations), "max-parallel": int(float(to_string(max_parallel)))})
        for index, combination in enumerate(combinations)
    ]
    names = [i.name for i in instances]
    if len(set(names)) != len(names):
        raise ValueError(f"two instances of {job_id} have one name: {names}")
    return instances


def matrix_result(results: Iterable[str]) -> str:
    """``needs.<job>.result`` of a job from its instances' results: failure if one failed, else
    cancelled if one was cancelled, skipped if all were skipped, else success."""
    found = list(results)
    if "failure" in found:
        return "failure"
    if "cancelled" in found:
        return "cancelled"
    if found and all(r == "skipped" for r in found):
        return "skipped"
    return "success"


def matrix_outputs(outputs: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """``needs.<job>.outputs`` from its instances' outputs in the order they ran: the last instance
    to set an output to a non-empty value wins (an output no instance set stays as the first gave it)."""
    merged: dict[str, str] = {}
    for instance in outputs:
        merged.update({k: v for k, v in instance.items() if v or k not in merged})
    return merged
