"""Issue 13: a ``multi:`` objective without ``num_class`` takes it from the labels.

The configuration accepts ``multi:softprob`` alone (the run id is computed from the configuration before the data
is read); the split checks that the labels are class numbers from 0 without gaps and infers ``num_class`` as the
largest plus one, before anything is written; ``run.json`` records it under ``inferred``, and the training job is
sent it.  A given ``num_class`` is used as given.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from model_training.algorithm.hyperparameters import parse_hyperparameters
from model_training.config.run import StreamOptions, build_config
from model_training.errors import DatasetError, HyperparameterError
from model_training.output.layout import OutputLayout
from model_training.pipeline import run
from model_training.wiring import local_context
from tests.fixtures import write_csv

DAY = dt.date(2026, 5, 4)


def written(out: Path) -> list[Path]:
    """The files under ``out`` (a refused run leaves none; the streaming split may leave empty folders)."""
    return [p for p in out.rglob("*") if p.is_file()]


def classes_csv(tmp_path: Path, labels: list[str] | None = None, rows: int = 90) -> Path:
    """Three features and a label ``target`` (classes 0, 1, 2 by default, learnable from ``a``)."""
    labels = labels or [str(i % 3) for i in range(rows)]
    lines = ["a,b,c,target"] + [f"{int(y.split('.')[0]) * 10 + i % 4},{i % 7},{i * 5 % 11},{y}" for i, y in enumerate(labels)]
    return write_csv(tmp_path / "classes.csv", "\n".join(lines) + "\n")


def config(**hyperparameters: str):
    hps = {"objective": "multi:softprob", "num_round": "5", **hyperparameters}
    return build_config(run_date=DAY, label="target", hyperparameters=hps)


def split(src: Path, out: Path, *, stream: bool = False, train: bool = False, cfg: Any = None):
    options = StreamOptions(above_bytes=0 if stream else None, chunk_bytes=300)
    return run(local_context(src, cfg or config(), OutputLayout(out), train=train, stream=options))


def test_the_configuration_leaves_num_class_to_the_labels() -> None:
    # before: refused before any data was read ("objective multi:softprob requires num_class")
    hyperparameters = config().training.hyperparameters
    assert "num_class" not in hyperparameters and hyperparameters["eval_metric"] == "merror,mlogloss"
    assert parse_hyperparameters(hyperparameters, infer_num_class=True).num_class is None
    with pytest.raises(HyperparameterError, match="requires num_class"):  # the container's own rule stands
        parse_hyperparameters(hyperparameters)


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
def test_num_class_is_inferred_recorded_and_sent_to_the_training_job(tmp_path: Path, stream: bool) -> None:
    out = tmp_path / "out"
    record = split(classes_csv(tmp_path), out, stream=stream, train=True).record
    assert record.inferred == {"hyperparameters": {"num_class": "3"}, "drop": []}
    assert "num_class" not in record.config["training"]["hyperparameters"]
    job = json.loads((out / "training-jobs" / f"{record.training.job_name}.json").read_text())
    assert job["HyperParameters"]["num_class"] == "3"
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert {"validation:merror", "validation:mlogloss"} <= set(record.training.final_metrics)
    assert {s: sorted(v.label_counts or {}) for s, v in record.splits.items()} == {s: ["0", "1", "2"] for s in record.splits}


def test_in_memory_and_streaming_record_the_same(tmp_path: Path) -> None:
    src = classes_csv(tmp_path, rows=600)
    texts = []
    for stream in (False, True):
        out = tmp_path / str(stream)
        record = split(src, out, stream=stream).record
        texts.append((out / record.prefix / "run.json").read_text().replace(str(out), "ROOT"))
    assert texts[0] == texts[1]


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
@pytest.mark.parametrize(
    ("bad", "what"),
    [("1.5", "label 1.5 is not a class number (an integer from 0)"), ("-1", "label -1 is not a class number")],
)
def test_a_label_that_is_not_a_class_number_names_its_line_and_column(tmp_path: Path, stream: bool, bad: str, what: str) -> None:
    labels = [str(i % 3) for i in range(90)]
    labels[70] = bad
    with pytest.raises(DatasetError) as caught:
        split(classes_csv(tmp_path, labels), tmp_path / "out", stream=stream)
    assert what in caught.value.message and "line 72" in caught.value.message and "'target'" in caught.value.message
    assert not written(tmp_path / "out")


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "streaming"])
@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ((1, 2, 3), "no row is of class 0"),
        ((0, 1, 3), "no row is of class 2"),
        ((0, 1, 2, 5), "no row is of class 3 (and 1 more"),
    ],
)
def test_classes_with_a_gap_are_refused_before_anything_is_written(
    tmp_path: Path, stream: bool, values: tuple[int, ...], missing: str
) -> None:
    labels = [str(values[i % len(values)]) for i in range(90)]
    with pytest.raises(DatasetError) as caught:
        split(classes_csv(tmp_path, labels), tmp_path / "out", stream=stream)
    assert missing in caught.value.message and "numbers the classes from 0" in caught.value.message
    assert f"-H num_class={max(values) + 1}" in caught.value.hint
    assert not written(tmp_path / "out")


@pytest.mark.parametrize(
    ("values", "missing"),
    [((0, 5), "no row is of class 1 (and 3 more classes"), ((0, 1e9), "no row is of class 1 (and 1e+09 more classes"),
     ((0, 1, 1e308), "no row is of class 2 (and 1e+308 more classes")],
)  # fmt: skip
def test_labels_far_apart_are_not_told_to_train_as_many_classes(tmp_path: Path, values: tuple[float, ...], missing: str) -> None:
    # before: "give num_class (-H num_class=1000000001 ...)" (XGBoost holds a gradient per row and class: 1e9 classes
    # of 90 rows are some 700 GB), and for 1e308 a num_class and a count of 309 digits
    rows = "".join(f"{i % 4},{i % 7},{values[i % len(values)]:.0f}\n" for i in range(90))
    with pytest.raises(DatasetError) as caught:
        split(write_csv(tmp_path / "codes.csv", "a,b,target\n" + rows), tmp_path / "out")
    assert missing in caught.value.message and len(caught.value.message) < 400, caught.value.message
    assert "num_class" not in caught.value.hint and "number the classes 0 to" in caught.value.hint
    assert "objective=reg:squarederror" in caught.value.hint  # a quantity, or codes to number upstream
    assert not written(tmp_path / "out")


def test_a_single_class_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="has a single class"):
        split(classes_csv(tmp_path, ["0"] * 60), tmp_path / "out")


# ----- 7. a given num_class is never overridden ---------------------------------------------------------------


def test_a_given_num_class_is_kept_and_the_labels_are_checked_against_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    record = split(classes_csv(tmp_path), out, train=True, cfg=config(num_class="4")).record
    assert record.inferred == {"drop": []}  # nothing inferred: four classes, as given (one without rows)
    job = json.loads((out / "training-jobs" / f"{record.training.job_name}.json").read_text())
    assert job["HyperParameters"]["num_class"] == "4" and job["TrainingJobStatus"] == "Completed"
    with pytest.raises(DatasetError, match=r"label 2 is not an integer in \[0, 2\) as num_class=2 requires"):
        split(classes_csv(tmp_path), tmp_path / "out2", cfg=config(num_class="2"))
