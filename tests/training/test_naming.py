from __future__ import annotations

import pytest

from model_training.training.naming import (
    JOB_NAME_PATTERN,
    MAX_JOB_NAME_LENGTH,
    MAX_TUNING_JOB_NAME_LENGTH,
    TUNING_JOB_NAME_PATTERN,
    is_valid_job_name,
    is_valid_tuning_job_name,
    job_name,
    tuning_job_name,
)


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


# ----- the tuning job's name ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ("bank", "bank-0123456789abcdef"),
        ("bank-preprocessed", "bank-preprocess-0123456789abcdef"),
        ("My Data_2026.v2", "my-data-2026-v2-0123456789abcdef"),
        ("a" * 14 + "--b", "a" * 14 + "-0123456789abcdef"),  # a cut that ends in "-" loses it
        ("___", "model-training-0123456789abcdef"),
        ("données", "donn-es-0123456789abcdef"),
    ],
)
def test_tuning_job_name_keeps_the_whole_run_id_within_32_characters(dataset: str, expected: str) -> None:
    name = tuning_job_name(dataset, "0123456789abcdef")
    assert name == expected
    assert len(name) <= MAX_TUNING_JOB_NAME_LENGTH == 32
    assert name.endswith("-0123456789abcdef")  # all 64 bits of the run id
    assert is_valid_tuning_job_name(name)


def test_tuning_job_name_follows_the_service_models_rule() -> None:
    """Our pattern and length are the service model's for HyperParameterTuningJobName (and for the training
    job's name), so a name we accept is one SageMaker accepts."""
    from botocore.session import get_session

    model = get_session().get_service_model("sagemaker")
    tuning = model.shape_for("HyperParameterTuningJobName").metadata
    training = model.shape_for("TrainingJobName").metadata
    assert (tuning["min"], tuning["max"]) == (1, MAX_TUNING_JOB_NAME_LENGTH)
    assert f"^{tuning['pattern']}$" == TUNING_JOB_NAME_PATTERN.pattern
    assert (training["min"], training["max"]) == (1, MAX_JOB_NAME_LENGTH)
    assert f"^{training['pattern']}$" == JOB_NAME_PATTERN.pattern


def test_tuning_job_names_differ_by_run_id_and_not_by_letter_case() -> None:
    """SageMaker's tuning job names ignore case: ours are lower case, so two runs' names differ in their run
    ids, never only in case."""
    names = {tuning_job_name("Bank", run_id) for run_id in ("0123456789abcdef", "0123456789abcdee")}
    assert len({name.lower() for name in names}) == 2
    assert all(name == name.lower() for name in names)


@pytest.mark.parametrize("run_id", ["", "not-hex!", "0" * 31])
def test_tuning_job_name_refuses_a_run_id_that_cannot_fit(run_id: str) -> None:
    with pytest.raises(ValueError, match="1-30 letters and digits"):
        tuning_job_name("bank", run_id)


def test_a_30_character_run_id_leaves_one_character_of_the_dataset() -> None:
    assert tuning_job_name("bank", "0" * 30) == "b-" + "0" * 30
