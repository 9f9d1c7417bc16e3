import pytest

from shootout.estimators import ESTIMATORS, select


def test_select_default():
    assert select().estimator_name == "dr"


def test_select_unknown():
    with pytest.raises(KeyError):
        select("nope")


def test_names_unique():
    names = [e.estimator_name for e in ESTIMATORS]
    assert len(names) == len(set(names))
