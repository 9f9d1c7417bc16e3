import json
from pathlib import Path

import click

from obdope.data import bts_ground_truth, random_logs
from obdope.ope import estimate_ctr
from obdope.policy import bts_action_dist

ARTIFACTS = Path(__file__).parent / "artifacts"


@click.command()
@click.option("--seed", type=int, default=0, help="bootstrap seed")
@click.option("--sample-size", type=int, default=10000)
def cli(seed, sample_size):
    dataset = random_logs()
    feedback = dataset.sample_bootstrap_bandit_feedback(sample_size=sample_size, random_state=seed)
    action_dist = bts_action_dist(dataset, feedback["n_rounds"], seed)
    estimates = estimate_ctr(feedback, action_dist)
    truth = bts_ground_truth()
    estimate = float(estimates["ipw"])
    metrics = {
        "squared_error": (estimate - truth) ** 2,
        "estimated_ctr": estimate,
        "on_policy_ctr": truth,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "metrics.json").write_text(json.dumps(metrics, indent=1))
    click.echo(json.dumps(metrics))


if __name__ == "__main__":
    cli()
