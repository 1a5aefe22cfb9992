"""Issue 13: ``run.json`` fits any label, and the stratified split of a quantity.

Classes are counted under a classification objective only (``binary:``, ``multi:``); under the others a split's
label is summarised (rows, minimum, maximum, mean), in bounded memory and the same in memory and streaming (the
mean is that of the exact sum).  The stratified strategy stratifies a quantity by its deciles instead of taking
each value as a class, and refuses a fractional label under a classification objective.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model_training.algorithm.hyperparameters import parse_hyperparameters
from model_training.config.run import StreamOptions, build_config
from model_training.errors import DatasetError
from model_training.output.layout import OutputLayout
from model_training.pipeline import run
from model_training.ports import SplitLabels
from model_training.split.labels import LabelTally, exact_sum, tally
from model_training.split.stratified import quantile_bins
from model_training.validation.rows import check_classes_for_auc
from model_training.wiring import local_context
from tests.fixtures import write_csv

DAY = dt.date(2026, 5, 4)
SPLITS = ("train", "validation", "test")


def quantity_csv(tmp_path: Path, rows: int = 2000, name: str = "quantity.csv") -> Path:
    """A regression CSV: label ``target`` of distinct values over a wide range (sums that depend on their order)."""
    rng = random.Random(3)
    lines = ["a,b,target"]
    for i in range(rows):
        label = rng.choice([1e15, 1.0, 1e-7, 3.5e6]) * rng.random() + i
        lines.append(f"{i % 13},{rng.random():.6f},{label!r}")
    return write_csv(tmp_path / name, "\n".join(lines) + "\n")


def split(
    src: Path,
    out: Path,
    *,
    stream: bool = False,
    objective: str = "reg:squarederror",
    hyperparameters_extra: dict[str, str] | None = None,
    **settings: Any,
):
    hyperparameters = {"objective": objective, "num_round": "3", **(hyperparameters_extra or {})}
    config = build_config(run_date=DAY, label="target", hyperparameters=hyperparameters, **settings)
    options = StreamOptions(above_bytes=0 if stream else None, chunk_bytes=4096)
    return run(local_context(src, config, OutputLayout(out), train=False, stream=options)).record


def channel_labels(out: Path, record, split_name: str) -> np.ndarray:
    text = (out / record.prefix / split_name / "part-00000").read_text()
    if split_name == "test":
        return np.array([float(line.rsplit(",", 1)[1]) for line in text.splitlines()[1:]])
    return np.array([float(line.split(",", 1)[0]) for line in text.splitlines()])


# ----- 5. a quantity is summarised, not counted --------------------------------------------------------------


def test_a_regressions_splits_hold_rows_min_max_and_mean(tmp_path: Path) -> None:
    out = tmp_path / "out"
    record = split(quantity_csv(tmp_path), out)
    for name in SPLITS:
        labels = channel_labels(out, record, name)
        summary = record.splits[name].label_summary
        assert record.splits[name].label_counts is None and record.splits[name].positives is None
        assert record.splits[name].rows == labels.size
        assert (summary.min, summary.max) == (labels.min(), labels.max())
        assert summary.mean == float(sum(map(Fraction, labels.tolist())) / labels.size)  # the exact mean, rounded once


def test_run_json_stays_small_for_a_label_with_a_value_a_row(tmp_path: Path) -> None:
    # before: one count per distinct value (6.6 MB of run.json for 200,000 rows)
    out = tmp_path / "out"
    record = split(quantity_csv(tmp_path, rows=20_000), out)
    assert (out / record.prefix / "run.json").stat().st_size < 8_000


def test_streaming_records_the_same_summary_as_in_memory(tmp_path: Path) -> None:
    src = quantity_csv(tmp_path, rows=5000)
    texts = {}
    for stream in (False, True):
        out = tmp_path / str(stream)
        record = split(src, out, stream=stream)
        texts[stream] = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("part-*"))}
        texts[stream]["run.json"] = (out / record.prefix / "run.json").read_text().replace(str(out), "ROOT").encode()
    assert src.stat().st_size > 20 * 4096  # many chunks
    assert texts[False] == texts[True]


def test_a_negative_zero_label_is_recorded_alike_in_memory_and_streaming(tmp_path: Path) -> None:
    # before: a split of -0 and 0 labels (what rounding writes: pandas' round(-0.2) is -0.0) recorded min and max
    # -0.0 in memory and 0.0 streaming, whichever sign its pieces met first
    lines = ["a,target"] + [f"{i},{('-0', '0', '-0.0', '0.0', '2')[i % 5] if i < 150 else '-0'}" for i in range(300)]
    src = write_csv(tmp_path / "zeros.csv", "\n".join(lines) + "\n")
    texts = {}
    for stream in (False, True):
        out = tmp_path / str(stream)
        record = split(src, out, stream=stream)
        texts[stream] = (out / record.prefix / "run.json").read_text().replace(str(out), "ROOT")
    assert texts[False] == texts[True]
    assert "-0.0" not in texts[False]  # zero is zero: its summary has no sign


def test_soft_binary_labels_are_summarised_alike_in_memory_and_streaming(tmp_path: Path) -> None:
    # before: binary:logistic takes any label in [0, 1] (a probability), and each distinct one was counted as a class:
    # 460 KB of run.json for 20,000 rows, as a regression's was before issue 13; streaming kept every distinct value
    rng = random.Random(5)
    lines = ["a,target"] + [f"{i % 17},{rng.random():.6f}" for i in range(5000)]
    src = write_csv(tmp_path / "soft.csv", "\n".join(lines) + "\n")
    texts = {}
    for stream in (False, True):
        out = tmp_path / str(stream)
        record = split(src, out, stream=stream, objective="binary:logistic", hyperparameters_extra={"eval_metric": "logloss"})
        texts[stream] = (out / record.prefix / "run.json").read_text().replace(str(out), "ROOT")
        for name in SPLITS:
            labels = channel_labels(out, record, name)
            assert record.splits[name].label_counts is None and record.splits[name].positives is None
            assert (record.splits[name].label_summary.min, record.splits[name].label_summary.max) == (labels.min(), labels.max())
    assert texts[False] == texts[True]
    assert len(texts[False]) < 8_000


def test_classification_still_counts_each_class(tmp_path: Path) -> None:
    lines = ["a,target"] + [f"{i},{i % 3}" for i in range(90)]
    out = tmp_path / "out"
    record = split(write_csv(tmp_path / "c.csv", "\n".join(lines) + "\n"), out, objective="multi:softmax")
    for name in SPLITS:
        values, counts = np.unique(channel_labels(out, record, name), return_counts=True)
        assert record.splits[name].label_counts == {str(int(v)): int(c) for v, c in zip(values, counts, strict=True)}
        assert record.splits[name].label_summary is None


def test_the_exact_sum_is_the_sum_of_the_values_whatever_their_pieces() -> None:
    rng = np.random.default_rng(7)
    values = rng.standard_normal(10_000) * 10.0 ** rng.integers(-300, 300, 10_000)
    values[:5] = [0.0, -0.0, 5e-324, -5e-324, 1.7976931348623157e308]
    assert exact_sum(values) == sum(map(Fraction, values.tolist()))
    assert exact_sum(np.repeat(values[5:6], 3 << 20)) == 3 * (1 << 20) * Fraction(values[5])  # several slices
    whole, pieces = LabelTally(classes=False), LabelTally(classes=False)
    whole.add(values)
    for piece in np.array_split(values[rng.permutation(values.size)], 37):
        pieces.add(piece)
    assert whole.result() == pieces.result()
    assert whole.result().mean == float(sum(map(Fraction, values.tolist())) / values.size)


def test_auc_still_needs_two_label_values_in_a_summarised_split() -> None:
    hp = parse_hyperparameters({"num_round": "2", "objective": "rank:pairwise", "eval_metric": "auc"})
    labels = {"train": tally(np.array([1.0, 2.0, 1.0]), classes=False), "validation": tally(np.array([2.0, 2.0]), classes=False)}
    with pytest.raises(DatasetError, match=r"the validation split has only one class \(label 2, 2 rows\)"):
        check_classes_for_auc("s3://b/k.csv", labels, hp)
    assert SplitLabels(rows=0).single_value() is None
    assert tally(np.array([0.0, 1.0]), classes=True).single_value() is None


# ----- 6. the stratified split of a quantity is by its deciles ----------------------------------------------


def test_quantile_bins_share_values_and_follow_only_the_multiset() -> None:
    labels = np.array([5.0, 1.0, 1.0, 1.0, 2.0, 9.0, 7.0, 3.0, 3.0, 8.0, 4.0, 6.0])
    bins = quantile_bins(labels)
    for value in np.unique(labels):
        assert np.unique(bins[labels == value]).size == 1  # one value, one bin
    assert np.all(np.diff(bins[np.argsort(labels, kind="stable")]) >= 0)  # bins follow the values
    order = np.random.default_rng(1).permutation(labels.size)
    assert np.array_equal(quantile_bins(labels[order]), bins[order])
    assert np.unique(quantile_bins(np.array([0.0, 1.0, 2.0] * 40))).size == 3  # few values: a bin each at most
    assert np.unique(quantile_bins(np.arange(1000.0))).size == 10


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_a_stratified_quantity_keeps_each_deciles_share_in_every_split(tmp_path: Path, stream: bool) -> None:
    # before: every value was a class of one row, and the splits' label distributions were left to chance
    out = tmp_path / "out"
    fractions = (Decimal("0.6"), Decimal("0.2"), Decimal("0.2"))
    record = split(quantity_csv(tmp_path, rows=1000), out, stream=stream, strategy="stratified", fractions=fractions)
    labels = {name: channel_labels(out, record, name) for name in SPLITS}
    every = np.concatenate(list(labels.values()))
    cuts = np.unique(np.quantile(every, np.arange(1, 10) / 10, method="inverted_cdf"))
    for name, fraction in zip(SPLITS, (0.6, 0.2, 0.2), strict=True):
        per_bin = np.bincount(np.searchsorted(cuts, labels[name], side="left"), minlength=10)
        share = fraction * np.bincount(np.searchsorted(cuts, every, side="left"), minlength=10)
        assert np.all(np.abs(per_bin - share) < 1), (name, per_bin, share)


def test_a_fractional_label_is_refused_by_the_stratified_split_of_classes(tmp_path: Path) -> None:
    lines = ["a,target"] + [f"{i},{(i % 2) if i != 41 else 0.25}" for i in range(80)]
    src = write_csv(tmp_path / "p.csv", "\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as caught:
        split(src, tmp_path / "out", objective="binary:logistic", strategy="stratified")
    assert "label 0.25 (column 'target', line 43) is not a class" in caught.value.message
    assert "--strategy random" in caught.value.hint
    split(src, tmp_path / "random", objective="binary:logistic")  # the random split takes it as it is


@pytest.mark.parametrize(
    ("objective", "labels"),
    [
        ("binary:logistic", ("0", "1", "0.0", "1.0", "-0", "1e0")),  # classes in a byte: counted from pass 1's codes
        ("multi:softmax", tuple(str(i) for i in range(12))),
        ("multi:softmax", tuple(str(i) for i in range(300))),  # past a byte: pass 2 reads the labels, as before
    ],
)
def test_streaming_counts_classes_as_in_memory_from_pass_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, objective: str, labels: tuple[str, ...]
) -> None:
    # issue 16: a classification's classes are kept in a byte a row in pass 1 and counted per split from the plan;
    # pass 2 no longer reads the labels (0.3 s of its main thread on 484 MB), unless a class does not fit a byte
    from model_training.data.dataset import Dataset

    rows = [f"{i % 17},{labels[(i * 7) % len(labels)]}" for i in range(3000)]
    src = write_csv(tmp_path / "classes.csv", "a,target\n" + "\n".join(rows) + "\n")
    extra = {"num_class": "300"} if len(labels) == 300 else {}
    texts = {}
    original = Dataset.numbers
    for stream in (False, True):
        read: list[str] = []
        monkeypatch.setattr(Dataset, "numbers", lambda self, name, read=read: read.append(name) or original(self, name))
        out = tmp_path / str(stream)
        record = split(src, out, stream=stream, objective=objective, hyperparameters_extra=extra)
        texts[stream] = (out / record.prefix / "run.json").read_text().replace(str(out), "ROOT")
        if stream:
            chunks = src.stat().st_size // 4096
            assert len(read) < chunks * 1.5 if len(labels) < 256 else len(read) >= chunks * 2  # pass 1 only, or both
        for name in SPLITS:
            values, counts = np.unique(channel_labels(out, record, name), return_counts=True)
            assert record.splits[name].label_counts == {str(int(v)): int(c) for v, c in zip(values, counts, strict=True)}
    assert texts[False] == texts[True]


def test_class_codes_give_what_the_labels_give() -> None:
    # the in-memory split counts classes from one byte a row (issue 16): the same distinct labels and per-split counts
    from model_training.split.labels import class_codes, distinct_labels, split_summaries

    rng = np.random.default_rng(7)
    for labels in (np.array([0.0, -0.0, 1.0, 1.0]), rng.integers(0, 256, 5000).astype(np.float64), np.array([3.0])):
        codes = class_codes(labels)
        assert codes is not None
        assert distinct_labels(labels, codes).tolist() == distinct_labels(labels).tolist()
        order = rng.permutation(labels.size)
        plan = {"train": order[: labels.size // 2], "validation": order[labels.size // 2 :], "test": order[:0]}
        assert split_summaries(labels, plan, True, codes) == split_summaries(labels, plan, True)
    for labels in (np.array([0.5, 1.0]), np.array([256.0]), np.array([-1.0, 0.0])):
        assert class_codes(labels) is None  # not a class in a byte: the labels are counted themselves
