"""OPE pipelines of different shapes, as ``{path: source}``: the heuristic agent's test fixtures.

Shared by the heuristic tests, the knob tests and the golden ranking snapshots
(:mod:`tests.helpers.heuristic_scenarios`).
"""

from __future__ import annotations

IPW_PIPELINE = {
    "offline/evaluation.py": '''"""Off-policy evaluation of the ranking policy."""
from __future__ import annotations

from obp.ope import InverseProbabilityWeighting as IPW, OffPolicyEvaluation, RegressionModel
from sklearn.linear_model import LogisticRegression


def policy_value(feedback, action_dist, seed):
    model = RegressionModel(
        n_actions=feedback["n_actions"],
        base_model=LogisticRegression(C=1.0, random_state=seed),
    )
    rewards = model.fit_predict(
        context=feedback["context"], action=feedback["action"], reward=feedback["reward"],
        n_folds=3, random_state=seed,
    )
    ope = OffPolicyEvaluation(bandit_feedback=feedback, ope_estimators=[IPW(estimator_name="main")])
    values = ope.estimate_policy_values(action_dist=action_dist, estimated_rewards_by_reg_model=rewards)
    return values["main"]
''',
}

DR_PIPELINE = {
    "src/estimation/dr.py": '''from obp import ope
from sklearn import linear_model


def make_estimator():
    return ope.DoublyRobust(lambda_=50.0, estimator_name="dr")


def make_reward_model(n_actions):
    return ope.RegressionModel(n_actions=n_actions, base_model=linear_model.LogisticRegression(max_iter=500))
''',
    "src/estimation/__init__.py": "",
}

SCOPE_PIPELINE = {
    "rl_ope/run_ope.py": '''import numpy as np
from scope_rl.ope import OffPolicyEvaluation as OPE
from scope_rl.ope.discrete import DirectMethod as DM
from scope_rl.ope.discrete import TrajectoryWiseImportanceSampling as TIS


def evaluate(logged_dataset, input_dict, prep):
    inputs = prep.obtain_whole_inputs(require_value_prediction=True, n_steps=1000)
    ope = OPE(logged_dataset=logged_dataset, ope_estimators=[DM(), TIS()])
    return ope.estimate_policy_value(input_dict=inputs)
''',
}

LEGACY_SCOPE_PIPELINE = {
    "legacy_ope.py": '''from scope_rl.ope import DiscreteTrajectoryWiseImportanceSampling, OffPolicyEvaluation

estimators = [DiscreteTrajectoryWiseImportanceSampling()]


def run(logged_dataset, input_dict):
    ope = OffPolicyEvaluation(logged_dataset=logged_dataset, ope_estimators=estimators)
    return ope.estimate_policy_value(input_dict=input_dict)
''',
}

# No reward model anywhere: the smallest search space, used to run the agent to exhaustion.
BARE_IPW = {
    "bare.py": '''from obp.ope import InverseProbabilityWeighting

ESTIMATOR = InverseProbabilityWeighting()
''',
}


# --- scope-rl pipelines with knobs (FQE, bandwidth, reward after done) ----------------------------

# The Direct Method alone: its estimate is the FQE value, trained for 500 of scope-rl's default 10,000 steps.
DM_ONLY = '''from scope_rl.ope import CreateOPEInput, OffPolicyEvaluation
from scope_rl.ope.continuous import DirectMethod


def estimate(logged_dataset, policy, seed):
    prep = CreateOPEInput(env=None)
    inputs = prep.obtain_whole_inputs(
        logged_dataset=logged_dataset,
        evaluation_policies=[policy],
        require_value_prediction=True,
        n_steps=500,
        random_state=seed,
    )
    estimator = DirectMethod()
    ope = OffPolicyEvaluation(logged_dataset=logged_dataset, ope_estimators=[estimator])
    return ope.estimate_policy_value(inputs)[policy.name][estimator.estimator_name]
'''

# Per-decision IS on continuous actions, FQE never fitted, the estimator built inside the OPE call.
CONTINUOUS_PDIS = '''from scope_rl.ope import CreateOPEInput, OffPolicyEvaluation as OPE
from scope_rl.ope.continuous import PerDecisionImportanceSampling as PDIS


def estimate(logged_dataset, policy):
    inputs = CreateOPEInput(env=None).obtain_whole_inputs(logged_dataset, [policy])
    ope = OPE(logged_dataset=logged_dataset, ope_estimators=[PDIS()])
    return ope.estimate_policy_value(inputs)
'''

DISCRETE_TIS = CONTINUOUS_PDIS.replace("continuous", "discrete")
