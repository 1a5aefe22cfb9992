"""The oracle environments hold what the images hold: the XGBoost version each image pins."""

from __future__ import annotations

import pytest

from tests.oracle import envs


@pytest.mark.parametrize("version", envs.VERSIONS)
def test_each_image_version_runs_its_own_xgboost(oracles, version: str) -> None:
    oracle = oracles(version)
    verdicts = oracle.run("hyperparameters.py", [{"num_round": "10", "objective": "binary:logistic"}])
    assert verdicts == [{"ok": True, "error": None, "validated": {"num_round": 10, "objective": "binary:logistic"}}]
    assert oracle.xgboost_version == {"3.0-5": "3.0.5", "1.7-1": "1.7.4"}[version]
