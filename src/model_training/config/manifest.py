"""The per-dataset ``manifest.json``: its model (every key optional), its JSON Schema, parsing and validating
one (with the closest valid name for an unknown key), and its settings as the flat settings of a run.

Finding and loading a manifest: :mod:`~model_training.config.manifest_files`; its place among the layers of
settings: :mod:`~model_training.config.resolve`.
"""

from __future__ import annotations

import difflib
import json
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError, field_validator

from model_training.errors import LINE, MAX_PROBLEMS, ConfigurationError, Text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class ManifestSplit(_Strict):
    """``split``: strategy, fractions (train, validation, test), seed, and the strategy's own settings."""

    strategy: str | None = Field(default=None, description="random | stratified | group | ordered | hash")
    fractions: tuple[Decimal, Decimal, Decimal] | None = Field(default=None, description="train, validation, test; sum 1")
    seed: StrictInt | None = Field(default=None, description="0 to 4294967295")
    key: str | None = Field(default=None, description="group / hash: the key column (hash: whole row if omitted)")
    order_by: str | None = Field(default=None, description="ordered: the timestamp or number column")
    shuffle_train: StrictBool | None = Field(default=None, description="ordered: shuffle rows inside train")


class ManifestTraining(_Strict):
    """``training``: the algorithm version, ``HyperParameters`` and the job's resources."""

    algorithm_version: str | None = Field(default=None, description="3.0-5 or 1.7-1")
    hyperparameters: dict[str, str | int | float | bool] | None = Field(default=None, description="merged over the defaults")
    instance_type: str | None = None
    instance_count: StrictInt | None = None
    volume_size_gb: StrictInt | None = None
    max_runtime_seconds: StrictInt | None = None
    use_spot: StrictBool | None = Field(default=None, description="managed spot training")
    max_wait_seconds: StrictInt | None = Field(default=None, description="managed spot: at least max_runtime_seconds")
    output_kms_key_id: str | None = None
    volume_kms_key_id: str | None = None
    enable_network_isolation: StrictBool | None = None
    enable_inter_container_traffic_encryption: StrictBool | None = None
    part_size_mb: StrictInt | None = Field(default=None, description="target size of a channel's part files (default 256)")
    vpc_subnets: list[str] | None = Field(default=None, description="VpcConfig.Subnets (with vpc_security_groups)")
    vpc_security_groups: list[str] | None = Field(default=None, description="VpcConfig.SecurityGroupIds")
    tags: dict[str, str] | None = None


class Manifest(_Strict):
    """A dataset's ``manifest.json``: every key optional; what it gives overrides the environment and SSM."""

    label: str | None = Field(default=None, description="the label column")
    drop: list[str] | None = Field(default=None, description="columns left out of train/validation")
    features: list[str] | None = Field(default=None, description="keep only these feature columns")
    index_column: Literal["auto", "index", "error"] | None = Field(
        default=None, description="a leading column named '' or 'Unnamed: 0' (a pandas index): auto | index | error"
    )
    split: ManifestSplit | None = None
    training: ManifestTraining | None = None
    tuning: dict[str, Any] | None = Field(
        default=None,
        description="the hyperparameter search: objective_metric, ranges, strategy, max_trials, max_parallel_trials, "
        "early_stopping, hyperband, warm_start, seed (see the README)",
    )

    @field_validator("drop", "features")
    @classmethod
    def _names(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not isinstance(v, str) or not v for v in value):
            raise ValueError("column names must be non-empty strings")
        return value


def manifest_schema() -> dict[str, Any]:
    """The manifest's JSON Schema (``model-training manifest schema``)."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "model-training manifest"
    return schema


#: The largest manifest read, in bytes (64 KiB): a manifest holds settings, never data.  A larger one is
#: refused before it is parsed (or, on S3, downloaded past this size).
MAX_MANIFEST_BYTES = 64 * 1024


def manifest_too_large(origin: str, size: int | str) -> ConfigurationError:
    """The error refusing the manifest at ``origin``, of ``size`` bytes (or a text such as ``more than 65536``),
    as larger than :data:`MAX_MANIFEST_BYTES`."""
    return ConfigurationError(
        f"{origin}: the manifest is {size} bytes, more than the limit of {MAX_MANIFEST_BYTES} bytes (64 KiB)",
        "a manifest holds settings, not data: remove what is not a setting (see: model-training manifest schema)",
    )


def parse_manifest(data: bytes | str, origin: str) -> Manifest:
    """Validate a manifest document.

    Raises:
        ConfigurationError: larger than :data:`MAX_MANIFEST_BYTES` (refused before parsing), not JSON, or
            invalid: every problem, each with its line and key path (:func:`read_manifest`; the first
            :data:`MAX_PROBLEMS` described, then how many more there are).
    """
    manifest, problems, _ = read_manifest(data, origin)
    if problems:
        raise ConfigurationError.of(problems, "invalid manifest", uri=origin, hint="see: model-training manifest schema")
    return manifest


def read_manifest(data: bytes | str, origin: str) -> tuple[Manifest, list[ConfigurationError], dict[str, int]]:
    """A manifest document as far as it is valid: ``(manifest, problems, lines)``.

    ``manifest`` holds the keys that are valid (an invalid key is left out, so that the values of the others can
    still be checked: every problem of a manifest is reported at once); ``problems`` has one error per invalid
    key, naming its key path and, in a text of several lines, its line (unknown keys with the closest valid name,
    or the valid names, listed once); ``lines`` gives the line of each key, by its path (``split.seed``).

    Raises:
        ConfigurationError: larger than :data:`MAX_MANIFEST_BYTES` (refused before parsing), not JSON, not an object.
    """
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_MANIFEST_BYTES:
        raise manifest_too_large(origin, size)
    try:
        document = json.loads(data, object_pairs_hook=_no_duplicate_keys)
    except RecursionError:
        raise ConfigurationError(f"{origin}: the manifest is nested too deeply", "see: model-training manifest schema") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{origin}: the manifest is not JSON ({exc})", "fix the JSON syntax at that position") from None
    if not isinstance(document, dict):
        raise ConfigurationError(f"{origin}: the manifest must be a JSON object", "see: model-training manifest schema")
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    lines = key_lines(text)
    several_lines = "\n" in text.strip()  # the lines of a one-line text say nothing
    problems: list[ConfigurationError] = []
    listed_valid: set[str] = set()  # the valid names are listed once
    for _ in range(3):  # one pass finds every problem; the next validates what is left
        try:
            return Manifest.model_validate(document), sorted(problems, key=lambda p: p.line or 0), lines
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                if err["type"] == "extra_forbidden":  # the closest name is looked up for the problems shown only
                    closest = _closest(err["loc"]) if len(problems) < MAX_PROBLEMS else ""
                    said = f"unknown key {path!r}{'' if closest in listed_valid else closest}"
                    listed_valid |= {closest} if closest.startswith(" (valid: ") else set()
                else:
                    said = f"{path}: {err['msg']}"
                line = _line_of(lines, err["loc"]) if several_lines else None
                message: Text = (LINE, f": {said}") if line else said
                problems.append(ConfigurationError(message, "see: model-training manifest schema", uri=origin, line=line))
                _leave_out(document, err["loc"])
    return Manifest(), sorted(problems, key=lambda p: p.line or 0), lines


def key_lines(text: str) -> dict[str, int]:
    """The line (1-based) of every object key of the JSON ``text`` (which must be valid JSON), by its dotted path
    (``split.seed``; the keys of objects inside lists are named as if the list were not there)."""
    lines: dict[str, int] = {}
    frames: list[list[str | None]] = []  # per open object or list: its kind and its current key
    expect_key = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            value, end = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            if expect_key:
                frames[-1][1] = value
                path = ".".join(str(f[1]) for f in frames if f[0] == "{")
                lines.setdefault(path, text.count("\n", 0, i) + 1)
                expect_key = False
            i = end
            continue
        if char in "{[":
            frames.append([char, None])
            expect_key = char == "{"
        elif char in "}]":
            frames.pop()
        elif char == ",":
            expect_key = bool(frames) and frames[-1][0] == "{"
        i += 1
    return lines


def _line_of(lines: dict[str, int], loc: tuple[Any, ...]) -> int | None:
    """The line of the key at ``loc`` (pydantic's), or of the nearest key above it that has one."""
    parts = [str(p) for p in loc]
    while parts:
        if (line := lines.get(".".join(parts))) is not None:
            return line
        parts.pop()
    return None


def _leave_out(document: dict[str, Any], loc: tuple[Any, ...]) -> None:
    """Remove the setting at ``loc`` (pydantic's) from ``document``: a top-level key, a key of ``split`` or
    ``training``, or one entry of ``training.hyperparameters`` or ``training.tags``."""
    depth = 1
    if len(loc) >= 2 and loc[0] in ("split", "training"):
        depth = 3 if len(loc) >= 3 and loc[0] == "training" and loc[1] in ("hyperparameters", "tags") else 2
    parent: Any = document
    for part in loc[: depth - 1]:
        if not isinstance(parent, dict) or not isinstance(parent.get(part), dict):
            document.pop(loc[0], None)  # an object holds something other than an object: leave it all out
            return
        parent = parent[part]
    parent.pop(loc[depth - 1], None)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"duplicate keys {', '.join(repeated)}")
    return dict(pairs)


def _nested_names() -> dict[str, str]:
    """Every setting name below the top level, with its path (``seed`` -> ``split.seed``)."""
    return {
        **{name: f"split.{name}" for name in ManifestSplit.model_fields},
        **{name: f"training.{name}" for name in ManifestTraining.model_fields},
    }


def _closest(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = Manifest
    for part in loc[:-1]:
        info = model.model_fields.get(str(part))
        annotation = getattr(info, "annotation", None)
        nested = next(
            (a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type) and issubclass(a, BaseModel)), None
        )
        if nested is None:
            return ""
        model = nested
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if model is Manifest:  # a nested setting written at the top level: seed -> split.seed
        paths = _nested_names()
        moved = difflib.get_close_matches(str(loc[-1]).lower(), list(paths), n=1, cutoff=0.75)
        if moved:
            return f" (did you mean {paths[moved[0]]!r}?)"
    return f" (valid: {', '.join(model.model_fields)})"


def manifest_settings(manifest: Manifest) -> dict[str, Any]:
    """The manifest as flat settings for :func:`~model_training.config.run.build_config`."""
    flat: dict[str, Any] = {}
    for name in ("label", "drop", "features", "index_column"):
        value = getattr(manifest, name)
        if value is not None:
            flat[name] = tuple(value) if isinstance(value, list) else value
    for part in (manifest.split, manifest.training):
        if part is not None:
            flat.update({k: tuple(v) if isinstance(v, list) else v for k, v in part.model_dump(exclude_none=True).items()})
    if manifest.tuning is not None:  # the section as given: checked with the run's hyperparameters (config.tuning)
        flat["tuning"] = manifest.tuning
    if "hyperparameters" in flat:
        flat["hyperparameters"] = {k: hyperparameter_text(v) for k, v in flat["hyperparameters"].items()}
    return flat


def hyperparameter_text(value: object) -> str:
    """A hyperparameter's value given as JSON (manifest, environment) as the string ``HyperParameters`` holds:
    ``true``/``false`` for a boolean, ``str(value)`` otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
