"""The per-dataset ``manifest.json``, and how every setting of a run is resolved.

Precedence of every setting, lowest first: built-in defaults < environment (``MODEL_TRAINING_*``) < SSM
(the JSON parameter ``mlops-{region}-{env}-training-settings``, manifest-shaped, when running against AWS)
< the dataset's manifest < command-line flags.  :func:`resolve` returns the effective
:class:`~model_training.config.run.RunConfig` and, for each setting, the layer it came from
(``model-training config show``).

Where the manifest comes from, first found wins: ``--manifest FILE``; ``manifest.json`` in the same folder
or S3 prefix as the dataset; ``<dataset>.manifest.json`` beside it; a default manifest named by the
environment variable ``MODEL_TRAINING_DEFAULT_MANIFEST`` (a path or an ``s3://`` URI) or by the SSM
parameter ``mlops-{region}-{env}-default-manifest``.  The one that applied, with its SHA-256 (and eTag on
S3), goes into ``run.json``; the manifest is part of the effective configuration, so a changed manifest is
a new run.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError, field_validator

from model_training.config.limits import Limits, check_limits, limits_from
from model_training.config.run import RunConfig, build_config
from model_training.errors import ConfigurationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


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
    split: ManifestSplit | None = None
    training: ManifestTraining | None = None

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
#: At most this many problems are described in an error; the rest are counted ("and N more").
MAX_PROBLEMS = 20


def _too_large(origin: str, size: int | str) -> ConfigurationError:
    return ConfigurationError(
        f"{origin}: the manifest is {size} bytes, more than the limit of {MAX_MANIFEST_BYTES} bytes (64 KiB)",
        "a manifest holds settings, not data: remove what is not a setting (see: model-training manifest schema)",
    )


def listed(problems: list[str], limit: int = MAX_PROBLEMS) -> list[str]:
    """The first ``limit`` of ``problems``, then ``and N more`` if there are more."""
    return problems if len(problems) <= limit else [*problems[:limit], f"and {len(problems) - limit} more"]


def parse_manifest(data: bytes | str, origin: str) -> Manifest:
    """Validate a manifest document.

    Raises:
        ConfigurationError: larger than :data:`MAX_MANIFEST_BYTES` (refused before parsing), not JSON, or
            invalid; the first :data:`MAX_PROBLEMS` problems are listed (unknown keys with the closest valid
            name), then how many more there are.
    """
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_MANIFEST_BYTES:
        raise _too_large(origin, size)
    try:
        document = json.loads(data, object_pairs_hook=_no_duplicate_keys)
    except RecursionError:
        raise ConfigurationError(f"{origin}: the manifest is nested too deeply", "see: model-training manifest schema") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{origin}: the manifest is not JSON ({exc})", "fix the JSON syntax at that position") from None
    if not isinstance(document, dict):
        raise ConfigurationError(f"{origin}: the manifest must be a JSON object", "see: model-training manifest schema")
    try:
        return Manifest.model_validate(document)
    except ValidationError as exc:
        errors = exc.errors()
        problems = []
        for err in errors[:MAX_PROBLEMS]:  # the closest name is looked up for the problems shown only
            path = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key {path!r}{_closest(err['loc'])}")
            else:
                problems.append(f"{path}: {err['msg']}")
        if len(errors) > MAX_PROBLEMS:
            problems.append(f"and {len(errors) - MAX_PROBLEMS} more")
        raise ConfigurationError(
            f"{origin}: invalid manifest: " + "; ".join(problems), "see: model-training manifest schema"
        ) from None


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
    for name in ("label", "drop", "features"):
        value = getattr(manifest, name)
        if value is not None:
            flat[name] = tuple(value) if isinstance(value, list) else value
    for part in (manifest.split, manifest.training):
        if part is not None:
            flat.update({k: tuple(v) if isinstance(v, list) else v for k, v in part.model_dump(exclude_none=True).items()})
    if "hyperparameters" in flat:
        flat["hyperparameters"] = {k: _hp_text(v) for k, v in flat["hyperparameters"].items()}
    return flat


def _hp_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: Environment variables of the environment layer, by setting.
ENV_SETTINGS = {
    "label": "MODEL_TRAINING_LABEL",
    "drop": "MODEL_TRAINING_DROP",
    "features": "MODEL_TRAINING_FEATURES",
    "strategy": "MODEL_TRAINING_SPLIT_STRATEGY",
    "fractions": "MODEL_TRAINING_FRACTIONS",
    "seed": "MODEL_TRAINING_SEED",
    "key": "MODEL_TRAINING_SPLIT_KEY",
    "order_by": "MODEL_TRAINING_ORDER_BY",
    "hyperparameters": "MODEL_TRAINING_HYPERPARAMETERS",
    "algorithm_version": "MODEL_TRAINING_ALGORITHM_VERSION",
    "instance_type": "MODEL_TRAINING_INSTANCE_TYPE",
    "instance_count": "MODEL_TRAINING_INSTANCE_COUNT",
    "volume_size_gb": "MODEL_TRAINING_VOLUME_SIZE_GB",
    "max_runtime_seconds": "MODEL_TRAINING_MAX_RUNTIME_SECONDS",
    "output_kms_key_id": "MODEL_TRAINING_OUTPUT_KMS_KEY_ID",
    "volume_kms_key_id": "MODEL_TRAINING_VOLUME_KMS_KEY_ID",
}


def env_settings(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The environment layer: ``MODEL_TRAINING_*`` variables (lists comma-separated, hyperparameters as JSON).

    Raises:
        ConfigurationError: a value cannot be read, naming the variable.
    """
    env = os.environ if env is None else env
    flat: dict[str, Any] = {}
    for name, var in ENV_SETTINGS.items():
        text = env.get(var)
        if not text:
            continue
        try:
            if name in ("drop", "features"):
                flat[name] = tuple(c.strip() for c in text.split(",") if c.strip())
            elif name == "fractions":
                from model_training.config.run import parse_fractions

                flat[name] = parse_fractions(text)
            elif name in ("seed", "instance_count", "volume_size_gb", "max_runtime_seconds"):
                flat[name] = int(text)
            elif name == "hyperparameters":
                try:
                    values = json.loads(text)
                except RecursionError:
                    raise ValueError("nested too deeply") from None
                if not isinstance(values, dict):
                    raise ValueError("a JSON object is needed")
                flat[name] = {k: _hp_text(v) for k, v in values.items()}
            else:
                flat[name] = text
        except (ValueError, ConfigurationError) as exc:
            raise ConfigurationError(f"{var}={text[:80]!r} cannot be read ({exc})", "fix the environment variable") from None
    return flat


@dataclass(frozen=True)
class ManifestSource:
    """The manifest that applied: where it was found, its SHA-256 (and eTag on S3), and its content."""

    uri: str
    sha256: str
    manifest: Manifest
    etag: str | None = None

    def record(self) -> dict[str, Any]:
        """What ``run.json`` says about it."""
        return {"uri": self.uri, "sha256": self.sha256, **({"etag": self.etag} if self.etag else {})}


def load_manifest_file(path: Path) -> ManifestSource:
    """Read and validate a local manifest file.

    Raises:
        ConfigurationError: missing, unreadable, or invalid.
    """
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
            if len(data) > MAX_MANIFEST_BYTES:
                raise _too_large(str(path), path.stat().st_size if path.is_file() else f"more than {MAX_MANIFEST_BYTES}")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the manifest ({exc.strerror})", "check the path") from None
    return ManifestSource(path.resolve().as_uri(), hashlib.sha256(data).hexdigest(), parse_manifest(data, str(path)))


def _load_s3_manifest(bucket: str, key: str) -> ManifestSource | None:
    from model_training import aws

    try:
        response = aws.client("s3").get_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if aws.error_code(exc) in ("NoSuchKey", "404", "NotFound", "AccessDenied", "403", "NoSuchBucket"):
            return None  # the source's own read reports a missing bucket or object properly
        raise
    uri = f"s3://{bucket}/{key}"
    size = int(response.get("ContentLength") or 0)
    if size > MAX_MANIFEST_BYTES:
        response["Body"].close()  # not downloaded
        raise _too_large(uri, size)
    data = response["Body"].read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise _too_large(uri, f"more than {MAX_MANIFEST_BYTES}")
    return ManifestSource(
        uri, hashlib.sha256(data).hexdigest(), parse_manifest(data, uri), str(response.get("ETag", "")).strip('"')
    )


def _load_uri(uri: str) -> ManifestSource:
    where = "fix MODEL_TRAINING_DEFAULT_MANIFEST or the SSM parameter ...-default-manifest"
    if uri.startswith("s3://"):
        import re

        from model_training.uris import parse_s3_uri

        bucket, key = parse_s3_uri(uri)
        if not key or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise ConfigurationError(f"the default manifest {uri!r} is not an s3://bucket/key URI", where)
        found = _load_s3_manifest(bucket, key)
        if found is None:
            raise ConfigurationError(f"the default manifest {uri} does not exist or cannot be read", where)
        return found
    if not Path(uri).is_file():
        raise ConfigurationError(f"the default manifest {uri} does not exist", where)
    return load_manifest_file(Path(uri))


def find_manifest(
    source: str, *, explicit: Path | None = None, env: Mapping[str, str] | None = None, ssm_default: str | None = None
) -> ManifestSource | None:
    """The manifest of ``source`` (a local path or ``s3://`` URI), searched in the documented order.

    Args:
        explicit: ``--manifest FILE``.
        ssm_default: the value of the SSM parameter naming the default manifest, if read.
    """
    env = os.environ if env is None else env
    if explicit is not None:
        return load_manifest_file(explicit)
    raw_name = source.rstrip("/").rsplit("/", 1)[-1]
    stem = raw_name[: -len(".csv.gz")] if raw_name.lower().endswith(".csv.gz") else raw_name.rsplit(".", 1)[0]
    if source.startswith("s3://"):
        from model_training.uris import parse_s3_uri

        bucket, key = parse_s3_uri(source)
        folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
        for candidate in (f"{folder}manifest.json", f"{folder}{stem}.manifest.json"):
            found = _load_s3_manifest(bucket, candidate)
            if found is not None:
                return found
    else:
        folder_path = Path(source) if Path(source).is_dir() else Path(source).parent
        for candidate_path in (folder_path / "manifest.json", folder_path / f"{stem}.manifest.json"):
            if candidate_path.is_file():
                return load_manifest_file(candidate_path)
    default = env.get("MODEL_TRAINING_DEFAULT_MANIFEST") or ssm_default
    return _load_uri(default) if default else None


@dataclass
class Resolution:
    """The effective configuration, where each setting came from, and the manifest that applied."""

    config: RunConfig
    origins: dict[str, str] = field(default_factory=dict)
    manifest: ManifestSource | None = None


def resolve(
    *,
    run_date: dt.date | None,
    env: dict[str, Any] | None = None,
    ssm: dict[str, Any] | None = None,
    manifest: ManifestSource | None = None,
    cli: dict[str, Any] | None = None,
    limits: Limits | None = None,
) -> Resolution:
    """Merge the layers (defaults < environment < SSM < manifest < command line) into a
    :class:`RunConfig`; hyperparameters merge name by name, every other setting is replaced whole.
    The training job's costly settings are then checked against ``limits`` (default: the environment's,
    :func:`~model_training.config.limits.limits_from`).

    Raises:
        ConfigurationError, HyperparameterError: the merged configuration is invalid.
        LimitError: a setting is above its ceiling (instance type, count, volume, runtime, spot wait).
    """
    from model_training.algorithm.hyperparameters import merge_hyperparameters
    from model_training.config.run import DEFAULT_HYPERPARAMETERS

    layers = [
        ("environment", env or {}),
        ("ssm", ssm or {}),
        ("manifest " + manifest.uri if manifest else "manifest", manifest_settings(manifest.manifest) if manifest else {}),
        ("command line", {k: v for k, v in (cli or {}).items() if v is not None}),
    ]
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    hyperparameters: dict[str, object] = dict(DEFAULT_HYPERPARAMETERS)
    hp_origins = dict.fromkeys(DEFAULT_HYPERPARAMETERS, "default")
    for name, layer in layers:
        for key, value in layer.items():
            if key == "hyperparameters":  # name by name; an alias replaces a lower layer's other name
                hyperparameters = merge_hyperparameters(hyperparameters, value)
                hp_origins.update(dict.fromkeys(value, name))
            else:
                merged[key] = value
                origins[key] = name
    rank = {name: i for i, (name, _) in enumerate(layers)}
    if "strategy" in merged:  # a higher layer's strategy drops lower layers' settings that belong to another one
        for setting, applies in (("key", ("group", "hash")), ("order_by", ("ordered",)), ("shuffle_train", ("ordered",))):
            if setting in merged and merged["strategy"] not in applies and rank[origins[setting]] < rank[origins["strategy"]]:
                del merged[setting]
                del origins[setting]
    try:
        config = build_config(run_date=run_date, hyperparameters=hyperparameters, _replace_hyperparameters=True, **merged)
    except ConfigurationError as exc:
        sources = sorted({origins[k] for k in merged} | {o for o in hp_origins.values() if o != "default"})
        if sources:
            exc.message += f" (settings from: {', '.join(sources)})"
        raise
    flat = flatten(config.model_dump(mode="json"))
    result = {
        k: origins.get(k.split(".")[1] if k.startswith("training.tags.") else k.rsplit(".", 1)[-1], "default") for k in flat
    }
    for k in flat:
        if k.startswith("training.hyperparameters."):
            result[k] = hp_origins.get(k.rsplit(".", 1)[-1], "default")
    if run_date is not None and "run_date" in result:
        result["run_date"] = "command line" if cli and cli.get("run_date") else "event / today"
    check_limits(config.training, limits if limits is not None else limits_from(), result)
    return Resolution(config=config, origins=result, manifest=manifest)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dict as ``{"a.b.c": leaf}`` (empty dicts stay leaves)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): value}
