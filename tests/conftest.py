"""Shared pytest fixtures (plain helpers are in ``tests/fixtures.py``).

Real data lives in ``../shared/data`` beside the repository (never copied into it).  A test that needs
it uses the ``shared_data`` fixture: on a user's clone without that folder it is skipped with the
reason; under CI (``CI`` set) it fails, because CI always has the folder.

AWS is a moto server on 127.0.0.1 for the whole session (``endpoint``); each test that asks for
``pipeline`` gets a clean state and a provisioned pipeline (buckets and SSM parameters named as the
reference pipeline names them).
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from model_training import aws
from model_training.config import settings
from model_training.offline import FAKE_CREDENTIALS, Pipeline, local_aws, provision

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MODEL_TRAINING_SHARED_DATA", REPO.parent / "shared" / "data"))
BANK = "bank-preprocessed.csv"
#: The region of the moto server and of the provisioned pipeline.
REGION = "eu-west-2"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; fails under CI and skips elsewhere when it is missing."""
    if not (SHARED_DATA / BANK).is_file():
        message = f"shared test data not found at {SHARED_DATA} (expected {BANK})"
        if _in_ci():
            pytest.fail(message + "; CI must have ../shared/data", pytrace=False)
        pytest.skip(message + "; clone the project beside its shared/ folder, or set MODEL_TRAINING_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def bank_csv(shared_data: Path) -> Path:
    return shared_data / BANK


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    """The moto server's URL, for the whole session."""
    with local_aws(REGION) as url:
        yield url


@pytest.fixture
def pipeline(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """A clean moto state with the pipeline provisioned, and the environment pointing at it (fake
    credentials, ``dev``, metrics off, no ``MODEL_TRAINING_*`` setting but the shared data's)."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **FAKE_CREDENTIALS,
    }.items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith("MODEL_TRAINING_") and key != "MODEL_TRAINING_SHARED_DATA":
            monkeypatch.delenv(key)
    monkeypatch.setenv("SERVERLESS_ENVIRONMENT", "dev")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    aws.reset_clients()
    settings.clear_cache()
    return provision(REGION, "dev")
