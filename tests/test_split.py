from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from model_training.config.split import SplitConfig
from model_training.errors import SplitError, command_line
from model_training.split.plan import cut_points, minimum_rows, plan_split, require_rows
from model_training.split.stratified import stratified_split

D = Decimal
SPLITS = ("train", "validation", "test")


#: Every row count up to 2,999, the bank data's 41,188, and two larger ones.
ROW_COUNTS = [*range(1, 3000), 41188, 100_000, 1_000_003]


def test_default_cuts_equal_the_original_int_arithmetic() -> None:
    # The original: int(0.7 * n) and int(0.9 * n) in floats.  Exact rational floor differs for e.g.
    # n = 90 and summing 0.7 + 0.2 in floats differs for n = 30: both must not be what we do.
    fractions = (D("0.7"), D("0.2"), D("0.1"))
    wrong = {}
    for n in ROW_COUNTS:
        ours, original = cut_points(n, fractions), (int(0.7 * n), int(0.9 * n))
        if ours != original:
            wrong[n] = (ours, original)
    shown = ", ".join(f"n={n}: {ours} != {original}" for n, (ours, original) in list(wrong.items())[:20])
    assert not wrong, f"{len(wrong)} of {len(ROW_COUNTS)} row counts are cut unlike the original (ours != original): {shown}"


def test_cumulative_fraction_is_summed_exactly() -> None:
    assert int((0.7 + 0.2) * 30) == 26  # the float trap: 0.7 + 0.2 is 0.8999999999999999
    assert cut_points(30, (D("0.7"), D("0.2"), D("0.1"))) == (21, 27)


def test_zero_test_fraction_gives_every_remaining_row_to_validation() -> None:
    assert cut_points(10, (D("0.8"), D("0.2"), D("0"))) == (8, 10)
    # sums within 1e-9 of 1 must not leave a stray test row
    assert cut_points(1000, (D("0.3333333333"), D("0.6666666666"), D("0"))) == (333, 1000)


def test_zero_validation_fraction() -> None:
    assert cut_points(10, (D("0.9"), D("0"), D("0.1"))) == (9, 9)


def test_plan_is_the_seeded_numpy_permutation_cut_in_order() -> None:
    plan = plan_split(41188, SplitConfig())
    order = np.random.RandomState(1729).permutation(41188)
    assert np.array_equal(plan.indices["train"], order[:28831])
    assert np.array_equal(plan.indices["validation"], order[28831:37069])
    assert np.array_equal(plan.indices["test"], order[37069:])
    assert plan.indices["test"][:3].tolist() == [9637, 36088, 30101]
    assert {k: plan.rows(k) for k in plan.indices} == {"train": 28831, "validation": 8238, "test": 4119}


def test_plan_is_a_partition_and_deterministic() -> None:
    cfg = SplitConfig(seed=7, fractions=(D("0.5"), D("0.25"), D("0.25")))
    a, b = plan_split(1001, cfg), plan_split(1001, cfg)
    for split in a.indices:
        assert np.array_equal(a.indices[split], b.indices[split])
    everything = np.concatenate(list(a.indices.values()))
    assert sorted(everything.tolist()) == list(range(1001))


def test_seed_changes_the_order() -> None:
    a = plan_split(100, SplitConfig(seed=1))
    b = plan_split(100, SplitConfig(seed=2))
    assert not np.array_equal(a.indices["train"], b.indices["train"])


def test_too_few_rows_states_the_minimum() -> None:
    with pytest.raises(SplitError) as info:
        plan_split(3, SplitConfig())
    assert "3 rows are too few" in info.value.message
    assert "validation" in info.value.message
    assert f"{minimum_rows((D('0.7'), D('0.2'), D('0.1')))} rows or more always work" in info.value.hint


def test_too_few_rows_names_the_source() -> None:
    with pytest.raises(SplitError, match=r"^s3://b/k.csv: 1 row is too few"):
        plan_split(1, SplitConfig(), "s3://b/k.csv")


def test_too_few_rows_is_one_message_for_every_strategy() -> None:
    # The random plan and the stratified split refuse "too few rows" through one function: the same words,
    # each with its own minimum (cut points against largest remainder).
    with pytest.raises(SplitError) as random_error:
        plan_split(3, SplitConfig(), "s3://b/k.csv")
    assert (
        random_error.value.message
        == "s3://b/k.csv: 3 rows are too few for fractions 0.7,0.2,0.1: the validation split would be empty"
    )
    said = random_error.value.hint_in(command_line)  # the command line names the flag
    assert said == "4 rows or more always work for these fractions; add rows or change --fractions"
    with pytest.raises(SplitError) as stratified_error:
        stratified_split(np.zeros(1), (D("0.7"), D("0.2"), D("0.1")), 1)
    assert (
        stratified_error.value.message
        == "1 row is too few for fractions 0.7,0.2,0.1: the validation and test split would be empty"
    )
    assert stratified_error.value.hint_in(command_line) == (
        "6 rows or more always work for a stratified split with these fractions; add rows or change --fractions"
    )


def test_require_rows_asks_for_the_minimum_only_when_a_split_is_empty() -> None:
    def unreachable() -> int:
        raise AssertionError("the minimum is computed only for the message")

    require_rows((7, 2, 1), (D("0.7"), D("0.2"), D("0.1")), unreachable)
    require_rows((10, 0, 0), (D("1"), D("0"), D("0")), unreachable)  # a zero fraction may stay empty
    with pytest.raises(SplitError) as error:
        require_rows((2, 0, 0), (D("0.5"), D("0"), D("0.5")), lambda: 2)
    assert error.value.message == "2 rows are too few for fractions 0.5,0,0.5: the test split would be empty"


def test_minimum_rows_copes_with_non_monotonic_floors() -> None:
    # 52 rows leave a 1% validation split empty although 51 do not: the minimum is where it stays fine
    fractions = (D("0.5"), D("0.01"), D("0.49"))
    with pytest.raises(SplitError):
        plan_split(52, SplitConfig(fractions=fractions))
    assert plan_split(51, SplitConfig(fractions=fractions)).rows("validation") == 1
    need = minimum_rows(fractions)
    empty = {}
    for n in range(need, need + 5000):
        plan = plan_split(n, SplitConfig(fractions=fractions))
        rows = tuple(plan.rows(split) for split in SPLITS)
        if min(rows) == 0 or sum(rows) != n:
            empty[n] = rows
    assert not empty, f"row counts from the minimum on with an empty split or rows lost (train, validation, test): {empty}"


def test_minimum_rows_is_fast_for_tiny_fractions() -> None:
    assert minimum_rows((D("1e-10"), D("0.5"), D("0.4999999999"))) >= 10**10


def test_minimum_rows_is_the_smallest_that_works() -> None:
    fractions = (D("0.7"), D("0.2"), D("0.1"))
    need = minimum_rows(fractions)
    assert need == 4
    plan = plan_split(need, SplitConfig(fractions=fractions))
    assert [plan.rows(split) for split in SPLITS] == [2, 1, 1]
    with pytest.raises(SplitError):
        plan_split(need - 1, SplitConfig(fractions=fractions))


def test_zero_fractions_do_not_need_rows() -> None:
    assert minimum_rows((D("1"), D("0"), D("0"))) == 1
    plan = plan_split(1, SplitConfig(fractions=(D("1"), D("0"), D("0"))))
    assert plan.rows("train") == 1 and plan.rows("validation") == 0 and plan.rows("test") == 0
