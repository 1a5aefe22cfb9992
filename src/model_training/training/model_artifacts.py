"""What a local job writes besides its record: the model archive (``model.tar.gz`` holding ``xgboost-model``, as
the container writes it), ``metrics.json`` and a learning-curve PNG, at ``file://`` or ``s3://`` URIs."""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from model_training.output.local_store import LocalStore
from model_training.output.s3_store import S3Store
from model_training.training.local_warnings import captured_warnings
from model_training.uris import parse_s3_uri, path_from_uri

#: The model file inside the archive, as the container names it.
MODEL_FILE = "xgboost-model"
#: The archive's name under ``{S3OutputPath}/{TrainingJobName}/output/``.
ARCHIVE_NAME = "model.tar.gz"


def write_uri(uri: str, data: bytes) -> str:
    """Write ``data`` at a ``file://`` URI (atomically, a :class:`~model_training.output.local_store.LocalStore`) or an
    ``s3://`` URI (an :class:`~model_training.output.s3_store.S3Store` with its default ``AES256`` encryption, not the
    run's ``MODEL_TRAINING_SSE`` settings); returns the URI."""
    if uri.startswith("s3://"):
        bucket, key = parse_s3_uri(uri)
        S3Store(bucket).write_bytes(key, data)
        return uri
    path = path_from_uri(uri)
    return LocalStore(path.parent).write_bytes(path.name, data).uri


def model_archive(booster: Any) -> bytes:
    """``model.tar.gz`` holding the single file ``xgboost-model``, saved as the container saves it
    (``Booster.save_model`` on a path without extension: the installed release's default format), byte-stable
    for a model."""
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / MODEL_FILE
        with captured_warnings():  # "Saving model in the UBJSON format as default": as the container does
            booster.save_model(str(model_path))
        buf = io.BytesIO()
        # the gzip header holds a time too: 0, so one model gives one archive, byte for byte
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as packed, tarfile.open(fileobj=packed, mode="w") as tar:
            info = tar.gettarinfo(str(model_path), arcname=MODEL_FILE)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with model_path.open("rb") as fh:
                tar.addfile(info, fh)
        return buf.getvalue()


def learning_curve_png(history: dict[str, dict[str, list[float]]], title: str) -> bytes | None:
    """A PNG of every metric per round, train and validation side by side (``None`` without matplotlib).

    Drawn on a :class:`matplotlib.figure.Figure` of its own, not through ``pyplot``, whose global state (the
    current figure, the backend) is not safe to share between jobs training in parallel threads (and whose import
    costs more).  The margins are fixed (in inches, room for 8-character tick labels) instead of computed by
    ``tight_layout``, which draws the whole figure once more to measure it: 0.15-0.25 s of a local run's 0.4 s
    drawing, on 2 cores."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    metrics = sorted({m for series in history.values() for m in series})
    if not metrics:
        return None
    fig = Figure(figsize=(5 * len(metrics), 4))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for data, series in history.items():
            if metric in series:
                ax.plot(range(len(series[metric])), series[metric], label=data)
        ax.set_xlabel("round")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    width = 5 * len(metrics)  # inches
    fig.subplots_adjust(left=0.8 / width, right=1 - 0.2 / width, bottom=0.13, top=0.85, wspace=1.0 / 5)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
