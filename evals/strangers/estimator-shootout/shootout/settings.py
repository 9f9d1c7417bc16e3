# Knobs of the benchmark. The estimator is picked by its obp name.
ESTIMATOR = "dr"
N_ROUNDS = 10000
N_ACTIONS = 6
TEMPERATURES = (0.2, 0.5, 1.0)  # one evaluation policy per temperature
REWARD_MODEL_FOLDS = 2
