import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from opl.learner import train  # noqa: E402
from opl.world import World  # noqa: E402


def get_seed(argv):
    if "--seed" in argv:
        return int(argv[argv.index("--seed") + 1])
    return 0


seed = get_seed(sys.argv)
world = World(seed)
train_logs, test = world.logs(3000), world.logs(3000)
t = time.time()
policy = train(train_logs, world.ds.n_actions, seed)
train_seconds = time.time() - t
value = world.value(test, policy.predict(context=test["context"]))
print(json.dumps({"policy_value": float(value), "train_seconds": train_seconds}))
