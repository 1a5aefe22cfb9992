"""Every problem of a configuration at once: the settings validated model by model, each problem named by
the setting's path (``split.seed``, ``training.tags.Testing``) and where its value came from, and the problems
of all the layers (environment, SSM, manifest, command line) reported as one error.

A model validator that finds several problems raises :class:`SettingProblems` (a ``ValueError``, as pydantic
expects), which keeps each problem's path; :func:`validated` turns pydantic's errors into
:class:`~model_training.errors.ConfigurationError` problems, one each; :func:`config_error` makes the error to
raise of them; :class:`Gathering` collects the errors of the steps an entry point takes to resolve its settings,
so that none stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from model_training.errors import ConfigurationError, Hint, HyperparameterError, ModelTrainingError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class Where(Protocol):
    """How a problem names the setting at fault: its path, decorated with where the value came from; for
    ``training.hyperparameters``, ``about`` names the hyperparameters the problem is about (as given), so that it is
    put down to the layers that set those (``()``: every layer that set any)."""

    def __call__(self, path: str, about: Sequence[str] = ()) -> str: ...


#: The hint of an error that names no setting with a hint of its own.
DEFAULT_HINT = "see: model-training config show SOURCE, and model-training manifest schema"


def plain(path: str, about: Sequence[str] = ()) -> str:
    """The setting's path as it is (no layer to name)."""
    return path


class SettingProblems(ValueError):
    """Every problem one model validator found: ``(path, text)`` pairs, the path as ``RunConfig`` names the
    setting (``split.key``, ``training.tags.Testing``)."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(text for _, text in self.problems))


def raise_problems(problems: Sequence[tuple[str, str]]) -> None:
    """Raise :class:`SettingProblems` if there are any (for a model validator)."""
    if problems:
        raise SettingProblems(problems)


def setting_name(path: str) -> str:
    """The flat setting a path is about: ``split.seed`` -> ``seed``, ``training.tags.Testing`` -> ``tags``."""
    parts = path.split(".")
    return parts[1] if parts[0] in ("split", "training") and len(parts) > 1 else parts[0]


def validated(
    model: type[M],
    values: Mapping[str, Any],
    prefix: str,
    errors: list[ModelTrainingError],
    *,
    where: Where = plain,
    hints: Mapping[str, Hint] | None = None,
) -> M | None:
    """``model(**values)``; for each problem, one :class:`ConfigurationError` appended to ``errors``:
    ``{where(path)}: {problem}``, the path ``prefix`` + the field (``split.`` + ``seed``), the hint
    ``hints[setting_name(path)]`` (or none).

    A field that is not valid is left out and the rest validated again, so that the model's own checks (across
    fields) run too: every problem is found at once.  Returns the model of the valid fields (those at fault left
    out, at their defaults: for checks of the rest, such as the ceilings), or ``None`` if none is found.  Problems
    found after the model's own checks failed are not reported: they may come of the defaults put in.
    """
    values = dict(values)
    reporting = True
    for _ in range(4):
        try:
            return model(**values)
        except ValidationError as exc:
            fields, own = set(), False
            for err in exc.errors():
                cause = (err.get("ctx") or {}).get("error")
                if isinstance(cause, SettingProblems):
                    found, own = cause.problems, True
                else:
                    loc = [str(p) for p in err["loc"]]
                    while loc and loc[-1].isdigit():  # an item of a list: the setting is the list
                        loc.pop()
                    text = str(err["msg"]).removeprefix("Value error, ")
                    found = [(prefix + ".".join(loc) if loc else prefix.rstrip("."), text)]
                fields |= {path.removeprefix(prefix).split(".")[0] for path, _ in found}
                for path, text in found if reporting else ():
                    errors.append(ConfigurationError(f"{where(path)}: {text}", (hints or {}).get(setting_name(path), "")))
            reporting = reporting and not own
            if not fields & values.keys():
                return None
            values = {k: v for k, v in values.items() if k not in fields}
    return None


def problems_of(exc: ModelTrainingError, where: Where = plain) -> list[ModelTrainingError]:
    """``exc`` as the problems it reports: those it groups (:attr:`~model_training.errors.ModelTrainingError.errors`),
    a :class:`~model_training.errors.HyperparameterError`'s one by one (``training.hyperparameters: ...``, each named
    as the layers that set the hyperparameters it is about name them), or itself."""
    if exc.errors:
        return list(exc.errors)
    if isinstance(exc, HyperparameterError):
        return [
            ConfigurationError(f"{where('training.hyperparameters', about)}: {p}", exc.hint_text)
            for p, about in zip(exc.problems, exc.about, strict=True)
        ]
    return [exc]


def config_error(
    errors: Sequence[ModelTrainingError], where: Where = plain, what: str = "invalid configuration"
) -> ModelTrainingError:
    """The error to raise for ``errors`` (at least one): a hyperparameter error or one that reports several
    problems of its own (a :class:`~model_training.config.limits.LimitError`) alone as it is; else ``what``, then
    every problem (:func:`problems_of`), the hint every problem's (or :data:`DEFAULT_HINT`)."""
    if len(errors) == 1 and (isinstance(errors[0], HyperparameterError) or errors[0].errors):
        return errors[0]
    problems = [p for e in errors for p in problems_of(e, where)]
    hinted = any(p.hint_text not in ((), ("",)) for p in problems)
    return ConfigurationError.of(problems, what, hint=None if hinted else DEFAULT_HINT)


class Gathering:
    """The errors of independent steps, reported together (an entry point resolving its settings: the
    environment, SSM, the manifest, its own flags).

    Attributes:
        errors: what the steps raised, in order.
    """

    def __init__(self) -> None:
        self.errors: list[ModelTrainingError] = []

    def attempt(self, step: Callable[[], T], default: T) -> T:
        """``step()``, or ``default`` if it raised a :class:`~model_training.errors.ModelTrainingError` (kept)."""
        try:
            return step()
        except ModelTrainingError as exc:
            self.errors.append(exc)
            return default

    def check(self) -> None:
        """Raise what the steps raised, as one error (:func:`config_error`), if any raised."""
        if self.errors:
            raise config_error(self.errors)
