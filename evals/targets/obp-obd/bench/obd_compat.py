"""OpenBanditDataset that loads on pandas >= 2 (protected; part of the harness).

obp 0.5.7's ``OpenBanditDataset.pre_process`` calls ``drop(columns=..., axis=1)``, which pandas 2
rejects, and ``get_dummies`` now returns booleans. This subclass does the same feature engineering
(one-hot user features, label-encoded item features plus the numeric ``item_feature_0``) with float
arrays.
"""

from __future__ import annotations

import pandas as pd
from obp.dataset import OpenBanditDataset
from sklearn.preprocessing import LabelEncoder


class CompatOpenBanditDataset(OpenBanditDataset):
    """``OpenBanditDataset`` with a pandas-2-safe ``pre_process``."""

    def pre_process(self) -> None:
        """Set ``context`` (one-hot user features) and ``action_context`` (item features) as floats."""
        user_columns = self.data.columns.str.contains("user_feature")
        self.context = pd.get_dummies(self.data.loc[:, user_columns], drop_first=True).to_numpy(dtype=float)
        categorical = self.item_context.drop(columns=["item_id", "item_feature_0"])
        encoded = categorical.apply(LabelEncoder().fit_transform)
        numeric = self.item_context["item_feature_0"].to_frame()
        self.action_context = pd.concat([encoded, numeric], axis=1).to_numpy(dtype=float)
