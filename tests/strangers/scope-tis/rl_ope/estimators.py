from scope_rl.ope import CreateOPEInput, OffPolicyEvaluation
from scope_rl.ope.discrete import PerDecisionImportanceSampling, TrajectoryWiseImportanceSampling


def run_ope(env, data, target, seed):
    inputs = CreateOPEInput(env=env).obtain_whole_inputs(
        logged_dataset=data,
        evaluation_policies=[target],
        n_trajectories_on_policy_evaluation=50,
        random_state=seed,
    )
    ope = OffPolicyEvaluation(
        logged_dataset=data,
        ope_estimators=[TrajectoryWiseImportanceSampling(), PerDecisionImportanceSampling()],
        disable_reward_after_done=False,
    )
    estimates = ope.estimate_policy_value(inputs)[target.name]
    return estimates, float(inputs[target.name]["on_policy_policy_value"].mean())
