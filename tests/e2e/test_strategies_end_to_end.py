"""Every split strategy through the whole pipeline on the bank data, checked on the files it writes."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from model_training.config.run import build_config
from model_training.output.layout import OutputLayout
from model_training.wiring import run_local

pytestmark = pytest.mark.shared_data
DAY = dt.date(2026, 7, 1)


def split_rows(bank_csv: Path, out: Path, **settings) -> tuple[dict[str, list[list[str]]], dict]:
    result = run_local(bank_csv, build_config(run_date=DAY, **settings), OutputLayout(out), train=False)
    run_dir = out / result.record.prefix
    rows = {}
    for split, file in result.record.files.items():
        lines = (run_dir / file.key.split(result.record.prefix + "/", 1)[1]).read_text().splitlines()
        rows[split] = [line.split(",") for line in (lines[1:] if split == "test" else lines)]
    return rows, json.loads((run_dir / "run.json").read_text())


def test_stratified_keeps_class_proportions_in_every_split(bank_csv: Path, tmp_path: Path) -> None:
    rows, record = split_rows(bank_csv, tmp_path, strategy="stratified", seed=3)
    n_pos, n = 4640, 41188
    for split, fraction in zip(("train", "validation", "test"), (0.7, 0.2, 0.1), strict=True):
        labels = [r[0] for r in rows[split]] if split != "test" else [r[-1] for r in rows[split]]
        positives = sum(float(v) == 1.0 for v in labels)
        assert abs(positives - fraction * n_pos) <= 1, (split, positives)
        assert abs((len(labels) - positives) - fraction * (n - n_pos)) <= 1
        assert record["splits"][split]["positives"] == positives
    assert record["config"]["split"]["strategy"] == "stratified"


def test_group_by_age_never_leaks_a_key(bank_csv: Path, tmp_path: Path) -> None:
    rows, record = split_rows(bank_csv, tmp_path, strategy="group", key="age")
    ages = {split: {r[1] for r in rows[split]} for split in ("train", "validation")}  # age: first feature column
    ages["test"] = {r[1] for r in rows["test"]}  # test: index column first, then age
    assert not ages["train"] & ages["validation"] and not ages["train"] & ages["test"] and not ages["validation"] & ages["test"]
    achieved = record["achieved_fractions"]
    assert abs(achieved["train"] - 0.7) < 0.01 and abs(achieved["validation"] - 0.2) < 0.01
    assert sum(record["splits"][s]["rows"] for s in achieved) == 41188


def test_ordered_by_campaign_never_splits_a_tie(bank_csv: Path, tmp_path: Path) -> None:
    rows, _ = split_rows(
        bank_csv, tmp_path, strategy="ordered", order_by="campaign", fractions=(Decimal("0.8"), Decimal("0.1"), Decimal("0.1"))
    )
    campaign = {s: [int(r[2]) for r in rows[s]] for s in ("train", "validation")}  # label, age, campaign
    campaign["test"] = [int(r[2]) for r in rows["test"]]  # index, age, campaign
    assert max(campaign["train"]) < min(campaign["validation"]) <= max(campaign["validation"]) < min(campaign["test"])


def test_hash_assignment_does_not_depend_on_file_order(bank_csv: Path, tmp_path: Path) -> None:
    header, *lines = bank_csv.read_text().splitlines()
    random.Random(5).shuffle(lines)
    shuffled = tmp_path / "shuffled" / "bank-preprocessed.csv"
    shuffled.parent.mkdir()
    shuffled.write_text("\n".join([header, *lines]) + "\n")
    a, record = split_rows(bank_csv, tmp_path / "a", strategy="hash")
    b, _ = split_rows(shuffled, tmp_path / "b", strategy="hash")
    for split in ("train", "validation"):
        assert Counter(map(tuple, a[split])) == Counter(map(tuple, b[split]))
    counts = {s: record["splits"][s]["rows"] for s in ("train", "validation", "test")}
    assert abs(counts["train"] - 0.7 * 41188) < 0.02 * 41188
    assert record["achieved_fractions"]["train"] == pytest.approx(counts["train"] / 41188)
