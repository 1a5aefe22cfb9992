"""The demo dataset: scikit-learn's bundled Wisconsin breast-cancer data, written as a CSV the stage
accepts (header row, numeric features, a 0/1 label column).  No network is needed: the data ships
inside the scikit-learn package (``sklearn/datasets/data/breast_cancer.csv``).
"""

from __future__ import annotations

import re
from pathlib import Path

from model_training.errors import ConfigurationError

DEMO_LABEL = "malignant"
DEMO_FILE = "breast-cancer.csv"


def write_demo_dataset(folder: Path) -> Path:
    """Write ``breast-cancer.csv`` (569 rows: 30 feature columns, then ``malignant`` = 1 for a malignant
    tumour, 212 rows) into ``folder`` and return its path.  The bytes are the same on every call.

    Raises:
        ConfigurationError: scikit-learn is not installed (the ``demo`` extra).
    """
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        raise ConfigurationError(
            "the demo needs scikit-learn, which is not installed", "install the demo extra: pip install 'model-training[demo]'"
        ) from None
    data = load_breast_cancer()
    names = [re.sub(r"[^a-z0-9]+", "_", n.lower()).strip("_") for n in data.feature_names]
    lines = [",".join([*names, DEMO_LABEL])]
    for features, target in zip(data.data, data.target, strict=True):
        # sklearn's target is 0 = malignant, 1 = benign; the label marks the class a screen looks for.
        lines.append(",".join([*(repr(float(v)) for v in features), "1" if target == 0 else "0"]))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEMO_FILE
    text = "\n".join(lines) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path
