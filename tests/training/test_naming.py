from __future__ import annotations

import pytest

from model_training.training.naming import JOB_NAME_PATTERN, is_valid_job_name, job_name


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ("bank-preprocessed", "bank-preprocessed-0123456789abcdef"),
        ("My Data_2026.v2", "my-data-2026-v2-0123456789abcdef"),
        ("données", "donn-es-0123456789abcdef"),
        ("___", "model-training-0123456789abcdef"),
        ("x" * 100, "x" * 46 + "-0123456789abcdef"),
        ("a" * 45 + "--b", "a" * 45 + "-0123456789abcdef"),
    ],
)
def test_job_name_is_valid_and_deterministic(dataset: str, expected: str) -> None:
    name = job_name(dataset, "0123456789abcdef")
    assert name == expected
    assert len(name) <= 63
    assert JOB_NAME_PATTERN.match(name)


@pytest.mark.parametrize("name", ["a", "a-b", "a--b", "A1", "x" * 63])
def test_valid_names(name: str) -> None:
    assert is_valid_job_name(name)


@pytest.mark.parametrize("name", ["", "-a", "a-", "a_b", "a.b", "a b", "x" * 64])
def test_invalid_names(name: str) -> None:
    assert not is_valid_job_name(name)


def test_run_id_must_be_alphanumeric() -> None:
    with pytest.raises(ValueError):
        job_name("bank", "not-hex!")
