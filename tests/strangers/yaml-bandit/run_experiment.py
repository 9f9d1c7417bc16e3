import json
import os
import sys

import yaml
from obp.ope import OffPolicyEvaluation, RegressionModel

from lib.factory import build_estimators, build_reward_classifier
from lib.world import simulate

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0

with open(os.path.join(os.path.dirname(__file__), "conf", "ope.yaml")) as f:
    cfg = yaml.safe_load(f)

fb, pi_e, truth = simulate(cfg["data"], seed)
reg = RegressionModel(n_actions=fb["n_actions"], base_model=build_reward_classifier())
q_hat = reg.fit_predict(context=fb["context"], action=fb["action"], reward=fb["reward"], n_folds=2, random_state=seed)
ope = OffPolicyEvaluation(bandit_feedback=fb, ope_estimators=build_estimators(cfg["estimators"]))
est = ope.estimate_policy_values(action_dist=pi_e, estimated_rewards_by_reg_model=q_hat)

os.makedirs("results", exist_ok=True)
out = {"value_error": abs(est[cfg["primary"]] - truth), "n_rounds": fb["n_rounds"]}
with open("results/metrics.json", "w") as f:
    json.dump(out, f)
print("seed", seed, {k: round(float(v), 4) for k, v in est.items()}, "truth", round(truth, 4))
