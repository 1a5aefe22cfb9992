"""The split's settings: strategy, seed and fractions (:class:`SplitConfig`, part of
:class:`~model_training.config.run.RunConfig` and of the run id), and the fractions as ``--fractions`` writes them.

Defaults: the original stage's seed 1729 and fractions 0.7/0.2/0.1 (cuts at ``int(0.7 n)`` and ``int(0.9 n)``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from model_training.config.problems import raise_problems
from model_training.errors import ConfigurationError

DEFAULT_SEED = 1729
#: The largest seed: numpy's ``RandomState`` takes seeds from 0 to 2**32 - 1.
SEED_MAX = 2**32 - 1
DEFAULT_FRACTIONS = (Decimal("0.7"), Decimal("0.2"), Decimal("0.1"))
#: The smallest non-zero fraction: below it a split is empty at any realistic row count.
MIN_FRACTION = Decimal("0.000001")
#: Split strategies: the original's seeded permutation, and what Data Wrangler, TFX and scikit-learn offer.
STRATEGIES = ("random", "stratified", "group", "ordered", "hash")
FRACTION_TOLERANCE = Decimal("1e-9")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SplitConfig(_Model):
    """How rows are assigned to the train/validation/test splits.

    ``fractions`` are exact decimals (``Decimal("0.7")``), so the cut points reproduce the original's
    ``int(0.7 * n)`` and ``int(0.9 * n)`` to the row (see :func:`model_training.split.plan.cut_points`).
    """

    strategy: str = "random"
    seed: int = DEFAULT_SEED  # 0 to SEED_MAX (_valid_seed)
    fractions: tuple[Decimal, Decimal, Decimal] = DEFAULT_FRACTIONS
    key: str | None = None
    order_by: str | None = None
    shuffle_train: bool = False

    @field_validator("seed")
    @classmethod
    def _valid_seed(cls, value: int) -> int:
        if not 0 <= value <= SEED_MAX:  # in the project's words, not pydantic's "Input should be greater than ..."
            raise ValueError(f"the seed is a whole number from 0 to {SEED_MAX}, not {value}")
        return value

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        if value not in STRATEGIES:
            raise ValueError(f"unknown split strategy {value!r}; use one of {', '.join(STRATEGIES)}")
        return value

    @model_validator(mode="after")
    def _strategy_settings(self) -> SplitConfig:
        problems = []  # every one, each with its setting's path (SettingProblems)
        if self.strategy == "group" and not self.key:
            problems.append(("split.strategy", "the group strategy needs a key column (split.key)"))
        if self.strategy == "ordered" and not self.order_by:
            problems.append(("split.strategy", "the ordered strategy needs an order_by column (split.order_by)"))
        if self.order_by and self.strategy != "ordered":
            problems.append(("split.order_by", f"order_by is a setting of the ordered strategy, not of {self.strategy}"))
        if self.key and self.strategy not in ("group", "hash"):
            problems.append(("split.key", f"key is a setting of the group and hash strategies, not of {self.strategy}"))
        if self.shuffle_train and self.strategy != "ordered":
            problems.append(("split.shuffle_train", "shuffle_train is a setting of the ordered strategy"))
        raise_problems(problems)
        return self

    @field_validator("fractions")
    @classmethod
    def _valid_fractions(cls, value: tuple[Decimal, Decimal, Decimal]) -> tuple[Decimal, Decimal, Decimal]:
        if any(not f.is_finite() or f < 0 for f in value):
            raise ValueError(f"fractions must be non-negative numbers, got {format_fractions(value)}")
        total = sum(value, Decimal(0))
        if abs(total - 1) > FRACTION_TOLERANCE:
            raise ValueError(f"fractions must sum to 1, got {format_fractions(value)} (sum {total})")
        if value[0] <= 0:
            raise ValueError("the train fraction must be greater than 0")
        if any(0 < f < MIN_FRACTION for f in value):
            raise ValueError(
                f"a non-zero fraction must be at least {MIN_FRACTION} (use 0 for no split), got {format_fractions(value)}"
            )
        # 0.70 and 0.7 are the same setting and must give the same run id.
        return tuple(f.normalize() if f else Decimal(0) for f in value)  # type: ignore[return-value]


def parse_fractions(text: str) -> tuple[Decimal, Decimal, Decimal]:
    """Parse ``"0.7,0.2,0.1"`` into three exact decimals.

    Raises:
        ConfigurationError: not three comma-separated numbers.
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(Decimal(p) for p in parts)
    except InvalidOperation:
        raise ConfigurationError(
            f"fractions {text!r} are not numbers", "give three numbers for train,validation,test, e.g. 0.7,0.2,0.1"
        ) from None
    if len(values) != 3:
        raise ConfigurationError(
            f"fractions {text!r} have {len(values)} values, expected 3",
            "give three numbers for train,validation,test, e.g. 0.7,0.2,0.1",
        )
    return (values[0], values[1], values[2])


def format_fractions(fractions: tuple[Decimal, ...]) -> str:
    """Fractions as messages show them: ``"0.7,0.2,0.1"`` (each as its decimal text, comma-separated), the form
    ``--fractions`` takes."""
    return ",".join(str(f) for f in fractions)
