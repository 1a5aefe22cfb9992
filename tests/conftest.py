"""Shared fixtures.

Real data lives in ``../shared/data`` beside the repository (never copied into it).  A test that needs
it uses the ``shared_data`` fixture: on a user's clone without that folder it is skipped with the
reason; under CI (``CI`` set) it fails, because CI always has the folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MODEL_TRAINING_SHARED_DATA", REPO.parent / "shared" / "data"))
BANK = "bank-preprocessed.csv"


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


def write_csv(path: Path, text: str | bytes) -> Path:
    """Write a small CSV fixture (text is written as UTF-8 without newline translation)."""
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path
