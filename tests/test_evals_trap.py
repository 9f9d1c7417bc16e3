"""The benchmark's trap target, obp-coupons: a change that wins on the search seeds and loses elsewhere.

Self-normalised DR is far better than the Direct Method in the clean regions and far worse in the
regions whose logged propensities are wrong (evals/targets/obp-coupons/README.md). A scripted agent
proposes it first, then a real gain (a redemption model with the quadratic terms the truth has): the
run must end with the real gain, and the journal must say the trap did not validate.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli.common import eval_environ
from evals.targets import prepare_repo, target_dir
from tests.helpers.loop import run_loop
from tests.helpers.toy import Step

PIPELINE = "couponeval/value.py"
BASELINE_MODEL = "LogisticRegression(C=0.05, max_iter=500)"
QUADRATIC_MODEL = ("make_pipeline(PolynomialFeatures(2), "
                   "LogisticRegression(C=10.0, max_iter=3000))")
IMPORTS = ("from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline\n"
           "from sklearn.preprocessing import PolynomialFeatures\n")


def test_the_changes_the_test_makes_apply_to_the_pipeline() -> None:
    pipeline = (target_dir("obp-coupons") / PIPELINE).read_text(encoding="utf-8")

    assert pipeline.count("DirectMethod") == 2 and pipeline.count(BASELINE_MODEL) == 1
    assert "from sklearn.linear_model import LogisticRegression\n" in pipeline


@pytest.mark.slow
def test_the_trap_does_not_validate_and_the_real_gain_wins(tmp_path: Path) -> None:
    # Three clean regions to search on, as a team developing on the regions it trusts would pick;
    # regions 201 and 104 are overridden ones.
    repo = prepare_repo(target_dir("obp-coupons"), tmp_path / "repo", [0, 2, 4], [100, 101, 102, 103, 104],
                        [200, 201, 202, 203, 204])
    pipeline = (repo / PIPELINE).read_text(encoding="utf-8")
    trap = pipeline.replace("DirectMethod", "SelfNormalizedDoublyRobust")
    real = pipeline.replace(BASELINE_MODEL, QUADRATIC_MODEL).replace(
        "from sklearn.linear_model import LogisticRegression\n", IMPORTS)
    steps = [Step("Self-normalised DR: unbiased where the reward model is not", trap, path=PIPELINE),
             Step("Quadratic features in the redemption model", real, path=PIPELINE)]

    summary, agent, _ = run_loop(repo, steps, environ=eval_environ(os.environ))

    first, second = summary.iterations
    assert (first.status, first.failure_kind) == ("no_gain", "not_validated"), first.failure_reason
    assert (first.failure_reason or "").startswith("did not validate")
    assert second.status == "improved", second.failure_reason
    assert summary.winner == 2, summary.reason
    assert agent.contexts[1].attempts[0].failure_kind == "not_validated"
