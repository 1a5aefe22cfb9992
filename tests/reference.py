"""The original stage's split, rebuilt with pandas from ``original-stage.md`` steps 4-6, as the
reference that our output must equal byte for byte.  Test-only: pandas is a dev dependency."""

from __future__ import annotations

from pathlib import Path


def original_split(source: Path, label: str = "y_yes", drop: tuple[str, ...] = ("y_no",), seed: int = 1729) -> dict[str, bytes]:
    """``{"train": bytes, "validation": bytes, "test": bytes}`` as the original stage wrote them."""
    import pandas as pd

    df = pd.read_csv(source)
    shuffled = df.sample(frac=1, random_state=seed)
    n = len(df)
    train = shuffled.iloc[: int(0.7 * n)]
    validation = shuffled.iloc[int(0.7 * n) : int(0.9 * n)]
    test = shuffled.iloc[int(0.9 * n) :]
    columns = [label] + [c for c in df.columns if c not in (label, *drop)]
    return {
        "train": train[columns].to_csv(header=False, index=False).encode("utf-8"),
        "validation": validation[columns].to_csv(header=False, index=False).encode("utf-8"),
        "test": test.to_csv().encode("utf-8"),
    }
