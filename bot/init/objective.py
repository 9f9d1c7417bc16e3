"""Which metric to optimise, in which direction, and which metrics are guardrails — from their names.

A metric name is split into words (``mean_sq_rel_error`` → mean, sq, rel, error; ``fitTime`` → fit,
time) and read in this order:

1. *time*: ``*_s``, ``*_ms``, seconds, time, runtime, wall, elapsed, duration, latency … — a guardrail
   (minimize, at most 50% worse), never the objective unless asked;
2. *minimize*: error, err, ee, loss, mse, rmse, mae, se, bias, regret, deviation, gap, variance …;
3. *reference*: true, truth, ground, gt, oracle, on (on-policy), behavior, logging, baseline — a
   ground truth or a logging-policy number, not something to improve;
4. *maximize*: value, reward, return, accuracy, auc, ndcg, precision, recall, f1, utility, revenue …;
5. anything else (``estimate``, ``n_rounds``) says nothing.

The objective is the one minimize metric, or, with none, the one maximize metric: in an OPE
evaluation an error against the ground truth is what says how good the estimate is, and the value
next to it is usually the estimate itself. Two or more at the top (``ipw_mse`` and ``dr_mse``), or
none at all, is ambiguous: :func:`choose_objective` returns the choices instead of guessing, and
the caller asks (or fails, non-interactively). ``--objective NAME[:min|max]`` decides instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.errors import ConfigError

Goal = Literal["minimize", "maximize"]
Kind = Literal["time", "minimize", "reference", "maximize", "other"]

_TIME_WORDS = frozenset({"s", "ms", "sec", "secs", "second", "seconds", "time", "runtime", "wall", "walltime",
                         "elapsed", "duration", "latency", "minutes"})
_MIN_WORDS = frozenset({"error", "errors", "err", "ee", "loss", "mse", "rmse", "mae", "mape", "se", "sq",
                        "bias", "regret", "deviation", "gap", "variance", "divergence", "kl", "nll", "risk"})
_REFERENCE_WORDS = frozenset({"true", "truth", "ground", "gt", "oracle", "on", "behavior", "behaviour",
                              "logging", "baseline"})
_MAX_WORDS = frozenset({"value", "values", "reward", "rewards", "return", "returns", "accuracy", "acc", "auc",
                        "ndcg", "precision", "recall", "f1", "utility", "revenue", "gain"})
_GOALS: dict[str, Goal] = {"min": "minimize", "minimize": "minimize",
                           "max": "maximize", "maximize": "maximize"}


def words(name: str) -> list[str]:
    """The lower-case words of a metric name (split at non-alphanumerics and camelCase humps)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if w]


def classify(name: str) -> Kind:
    """What a metric's name says it is (see the module docstring for the word lists)."""
    found = set(words(name))
    if found & _TIME_WORDS or name.lower() == "fit_time" or name.lower().endswith(("_s", "_ms")):
        return "time"
    if found & _MIN_WORDS:
        return "minimize"
    if found & _REFERENCE_WORDS:
        return "reference"
    if found & _MAX_WORDS:
        return "maximize"
    return "other"


@dataclass(frozen=True)
class ObjectiveChoice:
    """The objective metric and direction, with the reason (shown to the user, one line)."""

    metric: str
    goal: Goal
    why: str


@dataclass(frozen=True)
class Ambiguous:
    """No single metric stands out: the user must pick among ``choices``; ``why`` says what was seen."""

    choices: tuple[str, ...]
    why: str


def parse_objective(text: str) -> tuple[str, Goal | None]:
    """``NAME``, ``NAME:min`` or ``NAME:max`` (also ``minimize`` / ``maximize``) as (name, goal).

    Raises:
        ConfigError: empty name or an unknown direction.
    """
    name, sep, goal = text.strip().rpartition(":") if ":" in text else (text.strip(), "", "")
    name = name.strip()
    if not name:
        raise ConfigError(f"--objective {text!r}: give a metric name, e.g. --objective mse:min")
    if not sep:
        return name, None
    if goal.strip().lower() not in _GOALS:
        raise ConfigError(f"--objective {text!r}: the direction must be min or max, e.g. {name}:min")
    return name, _GOALS[goal.strip().lower()]


def goal_of(metric: str) -> Goal | None:
    """The direction a metric's name implies (None when the name does not say)."""
    kind = classify(metric)
    if kind == "time":
        return "minimize"
    return "minimize" if kind == "minimize" else "maximize" if kind == "maximize" else None


def choose_objective(metrics: Mapping[str, float]) -> ObjectiveChoice | Ambiguous:
    """The objective among ``metrics`` (names as the evaluation wrote them), or the choices to ask.

    Returns:
        An :class:`ObjectiveChoice` when exactly one metric says error-like (or, with none, exactly
        one says value-like), else :class:`Ambiguous` with the metrics to choose from. Raises nothing.
    """
    kinds = {name: classify(name) for name in metrics}
    for goal, said in (("minimize", "error/loss/bias"), ("maximize", "value/reward/accuracy")):
        matching = tuple(name for name, kind in kinds.items() if kind == goal)
        if len(matching) == 1:
            others = "" if goal == "minimize" else " and none says error/loss/bias"
            return ObjectiveChoice(matching[0], goal, f"the only metric whose name says {said}{others}")  # type: ignore[arg-type]
        if len(matching) > 1:
            return Ambiguous(matching, f"{len(matching)} metrics say {said}: {', '.join(matching)}")
    choices = tuple(name for name, kind in kinds.items() if kind != "time") or tuple(metrics)
    return Ambiguous(choices, "no metric name says error/loss/bias or value/reward/accuracy")


def objective_from_option(text: str, metrics: Mapping[str, float]) -> tuple[str, Goal | None]:
    """``--objective`` checked against the metrics the evaluation wrote: (name, goal or None if the
    option and the name both leave the direction open).

    Raises:
        ConfigError: malformed option, or the evaluation wrote no such metric.
    """
    name, goal = parse_objective(text)
    if name not in metrics:
        raise ConfigError(
            f"--objective {name}: the evaluation wrote no such metric; it wrote: {', '.join(metrics)}"
        )
    return name, goal or goal_of(name)


def guardrails(metrics: Mapping[str, float], objective: str) -> list[str]:
    """The time-like metrics (other than the objective): each becomes a guardrail."""
    return [name for name in metrics if name != objective and classify(name) == "time"]
