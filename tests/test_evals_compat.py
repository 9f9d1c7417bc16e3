"""The targets' protected compatibility modules: numpy-2 shims, FQE training, no d3rlpy logs, OBD loading.

The scope-rl shims change numpy and d3rlpy process-wide, so they are checked in fresh subprocesses
(one per target, both at once), never inside the test process.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from evals.targets import target_dir
from tests.helpers.evals import run_probes

#: target → its compatibility module.
SCOPE_COMPAT = {
    "scope-rl-discrete": "rlbench_compat.py",
    "scope-rl-continuous": "scripts/scope_compat.py",
}
PROBE = """
import json, sys, importlib.util
from pathlib import Path
spec = importlib.util.spec_from_file_location("compat_under_test", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
import numpy as np
import d3rlpy
from d3rlpy.algos import DoubleDQNConfig
from d3rlpy.dataset import MDPDataset
from d3rlpy.ope import FQEConfig, DiscreteFQE
rng = np.random.default_rng(0)
n = 60
dataset = MDPDataset(observations=rng.normal(size=(n, 3)), actions=rng.integers(0, 2, size=n),
                     rewards=rng.normal(size=n), terminals=(np.arange(n) % 10 == 9).astype(float))
d3rlpy.seed(0)
policy = DoubleDQNConfig().create(device="cpu:0")
policy.build_with_dataset(dataset)
fqe = DiscreteFQE(algo=policy, config=FQEConfig(), device="cpu:0")
history = fqe.fit(dataset, n_steps=20)
import gym, scope_rl.ope  # import-time checks of both libraries must pass too
print(json.dumps({
    "issubsctype": bool(np.issubsctype(np.array([1.0]), np.floating)),
    "issubsctype_int": bool(np.issubsctype(np.array([1]), np.floating)),
    "bool8": np.bool8 is np.bool_,
    "infty": float(np.infty),
    "epochs": [int(epoch) for epoch, _ in history],
    "logs": Path("d3rlpy_logs").exists(),
}))
"""


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Each scope-rl compatibility module probed in its own fresh interpreter."""
    commands = {target: [sys.executable, "-W", "ignore", "-c", PROBE, str(target_dir(target) / module)]
                for target, module in SCOPE_COMPAT.items()}
    return run_probes(commands, tmp_path_factory)


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(SCOPE_COMPAT))
def test_numpy_2_removed_names_are_restored(probes: dict[str, dict[str, object]], target: str) -> None:
    probe = probes[target]

    assert (probe["issubsctype"], probe["issubsctype_int"], probe["bool8"], probe["infty"]) == (
        True, False, True, float("inf"))


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(SCOPE_COMPAT))
def test_fqe_trains_below_ten_thousand_steps(probes: dict[str, dict[str, object]], target: str) -> None:
    # Unpatched d3rlpy runs 20 // 10_000 = 0 epochs: an untrained FQE and an empty history.
    assert probes[target]["epochs"] == [1]


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(SCOPE_COMPAT))
def test_fqe_writes_no_d3rlpy_logs(probes: dict[str, dict[str, object]], target: str) -> None:
    assert probes[target]["logs"] is False


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"evals_compat_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_open_bandit_dataset_sample_loads_with_float_features() -> None:
    compat = _load(target_dir("obp-obd") / "bench" / "obd_compat.py")

    dataset = compat.CompatOpenBanditDataset(behavior_policy="random", campaign="all")

    assert (dataset.n_rounds, dataset.n_actions, dataset.len_list) == (10_000, 80, 3)
    assert dataset.context.dtype == np.float64 and dataset.context.shape[0] == 10_000
    assert dataset.action_context.dtype == np.float64 and dataset.action_context.shape == (80, 4)


@pytest.mark.slow
def test_the_ground_truth_is_the_bts_logs_click_rate() -> None:
    compat = _load(target_dir("obp-obd") / "bench" / "obd_compat.py")

    truth = compat.CompatOpenBanditDataset.calc_on_policy_policy_value_estimate(behavior_policy="bts",
                                                                                campaign="all")

    bts = compat.CompatOpenBanditDataset(behavior_policy="bts", campaign="all")
    assert truth == pytest.approx(bts.reward.mean()) and 0 < truth < 0.05
