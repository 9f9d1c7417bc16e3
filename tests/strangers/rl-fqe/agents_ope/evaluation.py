from agents_ope import patches  # noqa: F401

from scope_rl.ope import CreateOPEInput, OffPolicyEvaluation
from scope_rl.ope.discrete import DirectMethod, DoublyRobust

FQE_STEPS = 100


def evaluate(env, logged, agents, seed):
    prep = CreateOPEInput(env=env, model_args={"fqe": {"learning_rate": 3e-4, "batch_size": 64}})
    inputs = prep.obtain_whole_inputs(
        logged_dataset=logged,
        evaluation_policies=agents,
        require_value_prediction=True,
        n_steps=FQE_STEPS,
        n_trajectories_on_policy_evaluation=40,
        random_state=seed,
    )
    ope = OffPolicyEvaluation(
        logged_dataset=logged, ope_estimators=[DirectMethod(), DoublyRobust()], disable_reward_after_done=False
    )
    values = ope.estimate_policy_value(inputs)
    return {agent.name: (values[agent.name]["dr"], inputs[agent.name]["on_policy_policy_value"].mean())
            for agent in agents}
