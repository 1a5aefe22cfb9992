"""The container's own metrics are handed to XGBoost as each image's container hands them."""

from __future__ import annotations

from model_training.algorithm.images import IMAGE_VERSIONS
from model_training.training.container_metrics import METRIC_ARGUMENT


def test_every_image_says_how_its_metrics_reach_xgboost() -> None:
    # a new image version must state it (a default-or-not rule broke the day the default changed)
    assert set(METRIC_ARGUMENT) == set(IMAGE_VERSIONS)
    assert set(METRIC_ARGUMENT.values()) <= {"custom_metric", "feval"}
