"""Our algorithm image URIs equal the SageMaker Python SDK's, for every region and both versions. The
SDK is a test-only dependency: the stage never imports it."""

from __future__ import annotations

import os

import pytest

from model_training.algorithm.images import IMAGE_VERSIONS, REGISTRIES, image_uri
from model_training.errors import ConfigurationError


@pytest.fixture(scope="module")
def sdk():
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    image_uris = pytest.importorskip("sagemaker.image_uris", reason="the SageMaker SDK is a dev dependency")
    return image_uris


def test_every_region_and_version_matches_the_sdk(sdk) -> None:
    import json
    from pathlib import Path

    import sagemaker

    config = json.loads((Path(sagemaker.__file__).parent / "image_uri_config" / "xgboost.json").read_text())
    sdk_regions = set(config["training"]["versions"]["3.0-5"]["registries"])
    assert sdk_regions == set(REGISTRIES), "the SDK lists other regions: update images.REGISTRIES"
    checked = 0
    for region in sorted(REGISTRIES):
        for version in IMAGE_VERSIONS:
            assert image_uri(region, version) == sdk.retrieve("xgboost", region, version), (region, version)
            checked += 1
    assert checked == 2 * len(REGISTRIES) >= 60


@pytest.mark.parametrize("version", ["latest", "1", "0.72"])
def test_legacy_versions_are_refused(version: str) -> None:
    with pytest.raises(ConfigurationError, match=r"legacy XGBoost 0\.72"):
        image_uri("eu-west-2", version)


def test_unsupported_version_and_region() -> None:
    with pytest.raises(ConfigurationError, match="not supported"):
        image_uri("eu-west-2", "1.5-1")
    with pytest.raises(ConfigurationError, match="no image in region"):
        image_uri("xx-nowhere-1")
