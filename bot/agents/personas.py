"""The Analyzer's personas and the exploit / explore / innovate schedule across iterations.

Each persona is a specialist lens on an OPE pipeline. The schedule rotates personas and modes so a
run neither keeps polishing one idea (pure exploitation) nor wanders without building on what
worked (pure exploration); an "innovate" turn asks for something the journal has not tried at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.results import Attempt, Persona

Mode = Literal["exploit", "explore", "innovate"]


@dataclass(frozen=True)
class PersonaSpec:
    """A persona: its name (as in ``Analysis.persona``) and what it looks at."""

    name: Persona
    focus: str


PERSONAS: tuple[PersonaSpec, ...] = (
    PersonaSpec(
        "estimator",
        "the choice and combination of OPE estimators (IPW, SNIPW, DM, DR, SNDR, Switch-DR, DRos, "
        "sub-Gaussian IPW …) and how the final estimate is formed from them",
    ),
    PersonaSpec(
        "regression-model",
        "the reward/Q model behind DM and DR-family estimators: model class, features, calibration, "
        "cross-fitting",
    ),
    PersonaSpec(
        "hyperparameter",
        "estimator and model knobs: clipping/shrinkage thresholds (lambda, tau), tuning grids, number "
        "of folds, regularisation",
    ),
    PersonaSpec(
        "data-handling",
        "propensity estimation and clipping, logged-data preprocessing, feature scaling, handling of "
        "rare actions and extreme importance weights",
    ),
)

MODE_TEXT: dict[Mode, str] = {
    "exploit": "EXPLOIT: refine or combine the best attempts above; keep what made them work and push "
    "it further, but do not resubmit an attempt already listed.",
    "explore": "EXPLORE: try a different direction than the best attempts, ideally under the "
    "suggested persona, to learn something new about this pipeline.",
    "innovate": "INNOVATE: propose an idea no listed attempt has tried (a different estimator family, a "
    "new correction, a structural change), even if riskier.",
}


def persona_named(name: str) -> PersonaSpec:
    """The persona called ``name``; raises KeyError for an unknown name."""
    for spec in PERSONAS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def mode_for(iteration: int, iterations: int, attempts: Sequence[Attempt]) -> Mode:
    """The mode of ``iteration`` (1-based) out of ``iterations``.

    Without any improvement yet there is nothing to exploit: explore and innovate alternate.
    Otherwise the cycle is exploit → explore → innovate, and the last iteration exploits.
    """
    improved = any(attempt.status == "improved" for attempt in attempts)
    if not improved:
        return "explore" if iteration % 2 == 1 else "innovate"
    if iterations > 1 and iteration >= iterations:
        return "exploit"
    cycle: tuple[Mode, ...] = ("exploit", "explore", "innovate")
    return cycle[(iteration - 1) % 3]


def suggested_persona(iteration: int, mode: Mode, attempts: Sequence[Attempt]) -> PersonaSpec:
    """The persona to suggest: the best improved attempt's persona when exploiting, else rotation."""
    if mode == "exploit":
        for attempt in attempts:
            if attempt.status == "improved":
                try:
                    return persona_named(attempt.persona)
                except KeyError:
                    break
    return PERSONAS[(iteration - 1) % len(PERSONAS)]


def directive(iteration: int, iterations: int, attempts: Sequence[Attempt]) -> str:
    """The markdown paragraph telling the Analyzer this iteration's mode and suggested persona."""
    mode = mode_for(iteration, iterations, attempts)
    persona = suggested_persona(iteration, mode, attempts)
    return (
        f"Iteration {iteration} of {iterations}. Mode: {MODE_TEXT[mode]}\n"
        f"Suggested persona: `{persona.name}` — {persona.focus}. You may pick another persona if the "
        "journal clearly points elsewhere; say which one in the `persona` field."
    )


def persona_list() -> str:
    """All personas as a markdown bullet list."""
    return "\n".join(f"- `{spec.name}`: {spec.focus}" for spec in PERSONAS)
