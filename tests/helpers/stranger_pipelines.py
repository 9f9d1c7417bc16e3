"""OPE code written the way other people write it: results read by the estimator's name.

Each pipeline is ``(editable files, read-only files)``: what the heuristic may change, and the rest
of the project it may only read (a harness, a configuration). They are written from obp's and
scope-rl's documented APIs, the way their examples read results (``estimate_policy_values(...)["ipw"]``).
"""

from __future__ import annotations

Files = dict[str, str]

#: obp: the pipeline returns the whole dict of estimates; the protected harness picks "ipw".
OBP_HARNESS_READS: tuple[Files, Files] = (
    {"bandit/estimate.py": '''from obp.ope import InverseProbabilityWeighting, OffPolicyEvaluation


def estimates(bandit_feedback, action_dist):
    ope = OffPolicyEvaluation(bandit_feedback=bandit_feedback,
                              ope_estimators=[InverseProbabilityWeighting()])
    return ope.estimate_policy_values(action_dist=action_dist)
'''},
    {"harness/run_eval.py": '''import argparse, json

from bandit.estimate import estimates


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    values = estimates(load(args.seed), policy(args.seed))
    print(json.dumps({"mse": (values["ipw"] - truth(args.seed)) ** 2}))
'''},
)

#: obp: which estimate counts is named in a YAML file the pipeline loads.
OBP_YAML_NAMES: tuple[Files, Files] = (
    {
        "ope/pipeline.py": '''import yaml
from obp.ope import InverseProbabilityWeighting, OffPolicyEvaluation


def run(feedback, action_dist, config_path="ope/settings.yaml"):
    with open(config_path) as fh:
        settings = yaml.safe_load(fh)
    ope = OffPolicyEvaluation(bandit_feedback=feedback, ope_estimators=[InverseProbabilityWeighting()])
    return ope.estimate_policy_values(action_dist=action_dist)[settings["report"]]
''',
        "ope/settings.yaml": "# which estimate the report shows\nreport: ipw\nn_rounds: 5000\n",
    },
    {},
)

#: obp: several estimators in a list, one picked by a select() in a config module.
OBP_SELECT: tuple[Files, Files] = (
    {
        "study/estimators.py": '''from obp.ope import DirectMethod, InverseProbabilityWeighting

ESTIMATORS = [InverseProbabilityWeighting(), DirectMethod()]
''',
        "study/config.py": 'PRIMARY = "ipw"\nSECONDARY = ("dm",)\n',
        "study/select.py": '''from study.config import PRIMARY


def select(values):
    return values[PRIMARY]
''',
    },
    {},
)

#: scope-rl: the pipeline reads its estimate by name; the names in the file are editable.
SCOPE_EDITABLE_READS: tuple[Files, Files] = (
    {"rl/offline.py": '''from scope_rl.ope import OffPolicyEvaluation
from scope_rl.ope.discrete import TrajectoryWiseImportanceSampling


def policy_value(logged_dataset, input_dict, policy_name):
    ope = OffPolicyEvaluation(logged_dataset=logged_dataset,
                              ope_estimators=[TrajectoryWiseImportanceSampling()])
    estimates = ope.estimate_policy_value(input_dict=input_dict)
    return estimates[policy_name]["tis"]
'''},
    {},
)

#: scope-rl: the protected benchmark reads "tis", which no other scope-rl class but DM can be named.
SCOPE_HARNESS_READS: tuple[Files, Files] = (
    {"rl/offline.py": '''from scope_rl.ope import OffPolicyEvaluation
from scope_rl.ope.discrete import TrajectoryWiseImportanceSampling


def all_estimates(logged_dataset, input_dict):
    ope = OffPolicyEvaluation(logged_dataset=logged_dataset,
                              ope_estimators=[TrajectoryWiseImportanceSampling()])
    return ope.estimate_policy_value(input_dict=input_dict)
'''},
    {"benchmark.py": '''from rl.offline import all_estimates

def score(logged_dataset, input_dict, name, truth):
    return abs(all_estimates(logged_dataset, input_dict)[name]["tis"] - truth) / abs(truth)
'''},
)

#: obp: the name is computed at run time (nothing in the files says "ipw").
OBP_COMPUTED_READ: tuple[Files, Files] = (
    {"bandit/estimate.py": '''from obp.ope import InverseProbabilityWeighting, OffPolicyEvaluation


def estimates(bandit_feedback, action_dist):
    ope = OffPolicyEvaluation(bandit_feedback=bandit_feedback,
                              ope_estimators=[InverseProbabilityWeighting()])
    return ope.estimate_policy_values(action_dist=action_dist)
'''},
    {"harness/run_eval.py": '''from bandit.estimate import estimates

KIND = "IPW"

def report(feedback, action_dist):
    return estimates(feedback, action_dist)[KIND.lower()]
'''},
)


def audited_repo(python: str) -> Files:
    """A whole repository whose harness runs only estimator classes an audit approved (plain IPW):
    every estimator swap crashes it, knobs of the approved class do not. ``python`` runs the
    evaluation (an interpreter with obp)."""
    return {
        "ranking/__init__.py": "",
        "ranking/ope.py": '''from obp.ope import InverseProbabilityWeighting, OffPolicyEvaluation


def build_estimators():
    return [InverseProbabilityWeighting()]


def estimate(feedback, action_dist, estimators):
    ope = OffPolicyEvaluation(bandit_feedback=feedback, ope_estimators=estimators)
    return ope.estimate_policy_values(action_dist=action_dist)["ipw"]
''',
        "audit/evaluate.py": '''"""Score the ranking OPE on one seed; only audited estimators may run."""
import argparse
import json
import sys
from pathlib import Path

from obp.dataset import SyntheticBanditDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ranking.ope import build_estimators, estimate  # noqa: E402

APPROVED = {"InverseProbabilityWeighting"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    estimators = build_estimators()
    for estimator in estimators:
        if type(estimator).__name__ not in APPROVED:
            raise RuntimeError(f"{type(estimator).__name__} has not passed the audit")
    data = SyntheticBanditDataset(n_actions=4, dim_context=3, beta=-2.0, random_state=args.seed)
    feedback = data.obtain_batch_bandit_feedback(n_rounds=800)
    action_dist = (feedback["expected_reward"] == feedback["expected_reward"].max(1, keepdims=True))
    action_dist = (0.9 * action_dist + 0.1 / 4)[:, :, None]
    truth = data.calc_ground_truth_policy_value(expected_reward=feedback["expected_reward"],
                                                action_dist=action_dist)
    value = float(estimate(feedback, action_dist, estimators))
    Path(args.out).write_text(json.dumps({"rel_error": abs(value - truth) / truth}))


if __name__ == "__main__":
    main()
''',
        ".growthhacker.yml": f'''evaluate:
  command: {python} audit/evaluate.py --seed {{seed}} --out {{metrics_path}}
  objective: {{metric: rel_error, goal: minimize}}
  seeds: {{search: [0], confirm: [100]}}
  timeout_s: 300
edit:
  paths: ["ranking/**/*.py"]
  protected: ["audit/**"]
loop:
  iterations: 3
  max_same_failures: 2
''',
    }
