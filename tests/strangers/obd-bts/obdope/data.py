"""Open Bandit Dataset loading, fixed for pandas 2+ (upstream pre_process breaks there)."""
import pandas as pd
from obp.dataset import OpenBanditDataset
from sklearn.preprocessing import LabelEncoder

CAMPAIGN = "all"


class OBD(OpenBanditDataset):
    def pre_process(self):
        user_cols = self.data.columns.str.contains("user_feature")
        self.context = pd.get_dummies(self.data.loc[:, user_cols], drop_first=True).astype(float).values
        item_feature_0 = self.item_context["item_feature_0"].to_frame()
        item_feature_cat = self.item_context.drop(columns=["item_id", "item_feature_0"]).apply(
            LabelEncoder().fit_transform
        )
        self.action_context = pd.concat([item_feature_cat, item_feature_0], axis=1).values


def random_logs():
    return OBD(behavior_policy="random", campaign=CAMPAIGN)


def bts_ground_truth():
    return OBD.calc_on_policy_policy_value_estimate(behavior_policy="bts", campaign=CAMPAIGN)
