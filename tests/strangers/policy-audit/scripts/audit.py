"""Audit run used in CI: estimate the candidate policy and compare with the simulator."""
import json
import pathlib
import sys

import click

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "src"))

from policy_audit import OffPolicyAudit  # noqa: E402
from policy_audit.scenario import N_ACTIONS, candidate_policy, ground_truth, scenario  # noqa: E402


@click.command()
@click.option("--seed", default=0, type=int, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True)
@click.option("--rounds", default=3000, type=int)
def main(seed, out_path, rounds):
    env, logs = scenario(seed, rounds)
    policy = candidate_policy(logs)
    audit = OffPolicyAudit(n_actions=N_ACTIONS, seed=seed).fit(logs)
    estimate = audit.value_of(policy)
    truth = ground_truth(env, logs, policy)
    report = {
        "abs_bias": abs(estimate - truth),
        "estimated_value": estimate,
        "true_value": truth,
        "fit_time": audit.fit_seconds,
    }
    pathlib.Path(out_path).write_text(json.dumps(report))
    click.echo(f"seed={seed} estimate={estimate:.4f} truth={truth:.4f}")


if __name__ == "__main__":
    main()
