"""The Lambda stage's settings: environment variables (with the original stage's defaults) and values
from SSM Parameter Store.

Environment (all optional):

==========================================  ===========================================================
``SERVERLESS_ENVIRONMENT``                  ``dev`` | ``staging`` | ``prod`` (default ``dev``)
``AWS_REGION``                              region (default :data:`~model_training.aws.DEFAULT_REGION`, ``eu-west-2``)
``MODEL_TRAINING_DATA_BUCKET_PARAMETER``    SSM name of the data bucket (``mlops-{region}-{env}-automl-data``)
``MODEL_TRAINING_MODEL_OUTPUT_PARAMETER``   SSM name of the model bucket (``mlops-{region}-{env}-model-output``)
``MODEL_TRAINING_ROLE_ARN_PARAMETER``       SSM name of the role ARN (``mlops-{region}-{env}-sagemaker-role-arn``)
``MODEL_TRAINING_ROLE_NAME``                role used when that parameter is missing (``SageMakerExecutionRole``)
``MODEL_TRAINING_SSE``                      ``AES256`` (default) or ``aws:kms``
``MODEL_TRAINING_KMS_KEY_ID``               KMS key for ``aws:kms``
``MODEL_TRAINING_ALGORITHM_VERSION``        an image version of :data:`~model_training.algorithm.images.IMAGE_VERSIONS`
                                            (default :data:`~model_training.algorithm.images.DEFAULT_IMAGE_VERSION`)
``MODEL_TRAINING_INSTANCE_TYPE``            ``ml.m5.xlarge`` (default)
``MODEL_TRAINING_INSTANCE_COUNT``           ``1``
``MODEL_TRAINING_VOLUME_SIZE_GB``           ``30``
``MODEL_TRAINING_MAX_RUNTIME_SECONDS``      ``86400``
``MODEL_TRAINING_OUTPUT_KMS_KEY_ID``        KMS key for the model artifact (``OutputDataConfig.KmsKeyId``)
``MODEL_TRAINING_VOLUME_KMS_KEY_ID``        KMS key for the training volume
``MODEL_TRAINING_MAX_OBJECT_BYTES``         refuse larger objects before reading them (default 8 GiB)
``MODEL_TRAINING_INPUT_PREFIX``             the handler processes only keys under it, in the data bucket (``automl/``)
``MODEL_TRAINING_MAX_DECOMPRESSED_BYTES``   gzip data may inflate to at most this many bytes (default 8 GiB;
                                            read by :func:`~model_training.data.inflate.max_decompressed_bytes`)
``MODEL_TRAINING_ALLOWED_INSTANCE_TYPES``,  ceilings of the training job's costly settings, with the SSM
``MODEL_TRAINING_LIMIT_*``                  parameter ``...-training-limits`` (:mod:`~model_training.config.limits`)
``MODEL_TRAINING_STREAM_ABOVE_MB``          split objects larger than this by streaming (default: a third
                                            of the function's memory; 2048 off Lambda; 0: always)
``MODEL_TRAINING_TMP_DIR``                  folder for the streaming split's temporary buckets (``/tmp``)
``MODEL_TRAINING_SSM_MAX_AGE``              seconds SSM values stay cached in a warm container (default 300)
``MODEL_TRAINING_PROCESSING_IMAGE``         the image a SageMaker Processing job splits a source in when the
                                            function cannot (the function's own image URI; unset: such a
                                            source is refused, :mod:`~model_training.training.processing`)
``MODEL_TRAINING_PROCESSING_ROLE_ARN``      the role that Processing job runs as
==========================================  ===========================================================

SSM values are read with decryption (the pipeline stores them as ``SecureString`` parameters) through
Powertools' parameters utility, which caches them across warm invocations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model_training.aws import DEFAULT_REGION
from model_training.errors import ConfigurationError

if TYPE_CHECKING:
    from model_training.config.problems import Gathering


#: A processing job's image: an image URI, no spaces, at most ``ImageUri``'s 255 characters (refused when the settings
#: are read, not by ``CreateProcessingJob`` when the first source too large for the function arrives).
PROCESSING_IMAGE = r"^\S{1,255}$"
#: A processing job's role: the service model's ``RoleArn`` pattern (botocore checks only its length).
PROCESSING_ROLE_ARN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"


class StageSettings(BaseModel):
    """Settings from the environment; see the module documentation for the variable names."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    environment: str = "dev"
    region: str = DEFAULT_REGION
    data_bucket_parameter: str | None = None
    model_output_parameter: str | None = None
    role_arn_parameter: str | None = None
    role_name: str = "SageMakerExecutionRole"
    sse: str = Field(default="AES256", pattern=r"^(AES256|aws:kms)$")
    kms_key_id: str | None = None
    max_object_bytes: int = Field(default=8 * 1024**3, ge=1)
    input_prefix: str = "automl/"
    stream_above_mb: int | None = Field(default=None, ge=0)
    tmp_dir: str | None = None
    ssm_max_age: int = Field(default=300, ge=0)
    processing_image: str | None = Field(default=None, pattern=PROCESSING_IMAGE)
    processing_role_arn: str | None = Field(default=None, max_length=2048, pattern=PROCESSING_ROLE_ARN)

    @model_validator(mode="after")
    def _processing_both_or_neither(self) -> StageSettings:
        """The hand-off needs both processing settings: one alone would silently leave it off."""
        if (self.processing_image is None) != (self.processing_role_arn is None):
            given, missing = (
                ("MODEL_TRAINING_PROCESSING_IMAGE", "MODEL_TRAINING_PROCESSING_ROLE_ARN")
                if self.processing_image
                else ("MODEL_TRAINING_PROCESSING_ROLE_ARN", "MODEL_TRAINING_PROCESSING_IMAGE")
            )
            raise ValueError(f"{given} is set without {missing}: set both to hand large sources to a processing job, or neither")
        return self

    def stream_options(self) -> Any:
        """When to stream (:class:`~model_training.config.run.StreamOptions`): above
        ``MODEL_TRAINING_STREAM_ABOVE_MB``, else above a third of the Lambda function's memory
        (``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``: the in-memory split's peak, see
        :data:`~model_training.config.run.STREAM_ABOVE_BYTES`), else above
        :data:`~model_training.config.run.STREAM_ABOVE_BYTES`."""
        from model_training.config.run import StreamOptions

        above: int | None
        if self.stream_above_mb is not None:
            above = self.stream_above_mb * 1024 * 1024
        elif memory := os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "").strip():
            above = int(memory) * 1024 * 1024 // 3 if memory.isdigit() else StreamOptions.above_bytes
        else:
            above = StreamOptions.above_bytes
        return StreamOptions(above_bytes=above, tmp_dir=self.tmp_dir)

    @property
    def prefix(self) -> str:
        """The input prefix as a folder: ``automl/`` (a trailing ``/`` added; ``""`` or ``/``: the whole bucket)."""
        text = self.input_prefix.strip().strip("/")
        return f"{text}/" if text else ""

    def parameter_name(self, thing: str) -> str:
        """``mlops-{region}-{env}-{thing}``, the pipeline's naming rule."""
        return f"mlops-{self.region}-{self.environment}-{thing}"

    @property
    def data_bucket_name_parameter(self) -> str:
        return self.data_bucket_parameter or self.parameter_name("automl-data")

    @property
    def model_output_name_parameter(self) -> str:
        return self.model_output_parameter or self.parameter_name("model-output")

    @property
    def role_parameter(self) -> str:
        return self.role_arn_parameter or self.parameter_name("sagemaker-role-arn")


_ENV = {
    "environment": "SERVERLESS_ENVIRONMENT",
    "data_bucket_parameter": "MODEL_TRAINING_DATA_BUCKET_PARAMETER",
    "model_output_parameter": "MODEL_TRAINING_MODEL_OUTPUT_PARAMETER",
    "role_arn_parameter": "MODEL_TRAINING_ROLE_ARN_PARAMETER",
    "role_name": "MODEL_TRAINING_ROLE_NAME",
    "sse": "MODEL_TRAINING_SSE",
    "kms_key_id": "MODEL_TRAINING_KMS_KEY_ID",
    "max_object_bytes": "MODEL_TRAINING_MAX_OBJECT_BYTES",
    "input_prefix": "MODEL_TRAINING_INPUT_PREFIX",
    "stream_above_mb": "MODEL_TRAINING_STREAM_ABOVE_MB",
    "tmp_dir": "MODEL_TRAINING_TMP_DIR",
    "ssm_max_age": "MODEL_TRAINING_SSM_MAX_AGE",
    "processing_image": "MODEL_TRAINING_PROCESSING_IMAGE",
    "processing_role_arn": "MODEL_TRAINING_PROCESSING_ROLE_ARN",
}


def settings_from_env(env: Mapping[str, str] | None = None) -> StageSettings:
    """Read :class:`StageSettings` from ``env`` (default ``os.environ``); empty variables are unset.

    Raises:
        ConfigurationError: a variable has an invalid value (named in the message).
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {field: env[var] for field, var in _ENV.items() if env.get(var)}
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        values["region"] = region
    try:
        return StageSettings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            if not err["loc"]:  # a rule across settings: its message names them
                problems.append(str(err["msg"]).removeprefix("Value error, "))
                continue
            field = str(err["loc"][0])
            problems.append(f"{_ENV.get(field, field)}: {err['msg']}")
        raise ConfigurationError(
            "invalid environment: " + "; ".join(problems), "fix the function's environment variables"
        ) from None


@dataclass(frozen=True)
class AwsTargets:
    """Where a run on AWS reads and writes, resolved from SSM.

    Attributes:
        data_bucket: the ``...-automl-data`` bucket (splits go under it).
        model_output_bucket: the ``...-model-output`` bucket (``S3OutputPath = s3://{it}/{date}/output``).
        role_arn: the SageMaker execution role.
    """

    data_bucket: str
    model_output_bucket: str
    role_arn: str


def resolve_targets(settings: StageSettings) -> AwsTargets:
    """Read the bucket names and the role ARN from SSM Parameter Store (with decryption, cached for
    ``ssm_max_age`` seconds across warm invocations).  A missing role parameter falls back to the role
    ``role_name`` in the caller's account (the original stage's ``SageMakerExecutionRole``).

    Raises:
        ConfigurationError: a bucket parameter is missing or unreadable (named in the message).
    """
    data = _parameter(settings, settings.data_bucket_name_parameter)
    model = _parameter(settings, settings.model_output_name_parameter)
    try:
        role = _parameter(settings, settings.role_parameter)
    except ConfigurationError:
        role = _fallback_role_arn(settings)
    return AwsTargets(data_bucket=data, model_output_bucket=model, role_arn=role)


@cache
def _provider(endpoint: str | None, region: str) -> Any:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    from model_training import aws

    return SSMProvider(boto3_client=aws.client("ssm", region))


def _fetch(settings: StageSettings, name: str) -> str:
    """The parameter's value, decrypted; raises Powertools' ``GetParameterError``."""
    provider = _provider(os.environ.get("AWS_ENDPOINT_URL"), settings.region)
    # max_age=0 means "always read": Powertools would fall back to its default age for 0
    value = provider.get(name, max_age=settings.ssm_max_age or None, decrypt=True, force_fetch=settings.ssm_max_age == 0)
    return str(value).strip()


def _explain(name: str, exc: Exception) -> Exception:
    """The error to raise for a parameter that could not be read: a transient one (retried) or a
    :class:`ConfigurationError` that says what to fix."""
    from model_training.aws import TRANSIENT_CODES, is_transient

    reason = str(exc).splitlines()[0][:200]
    if "credentials" in reason.lower():
        return ConfigurationError(
            f"no AWS credentials to read SSM parameter {name!r} ({reason})",
            "configure credentials (aws configure, AWS_PROFILE, a role), or point AWS_ENDPOINT_URL at MinIO or moto",
        )
    transient_text = ("Could not connect", "Connect timeout", "Read timeout", "Connection was closed", "reached max retries")
    cause = exc.__cause__ or exc.__context__
    if (cause is not None and is_transient(cause)) or any(t in reason for t in (*transient_text, *TRANSIENT_CODES)):
        return ConnectionError(f"SSM parameter {name!r} cannot be read: {reason}")  # transient: retried
    return ConfigurationError(
        f"SSM parameter {name!r} cannot be read ({reason})",
        "create it, or point MODEL_TRAINING_*_PARAMETER at the right name, and grant ssm:GetParameter",
    )


def _parameter(settings: StageSettings, name: str) -> str:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return _fetch(settings, name)
    except GetParameterError as exc:
        raise _explain(name, exc) from None


def optional_parameter(settings: StageSettings, name: str) -> str | None:
    """An SSM parameter's value, or ``None`` if it does not exist or the role may not read it (other
    failures raise as in :func:`resolve_targets`)."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return _fetch(settings, name)
    except GetParameterError as exc:
        if "ParameterNotFound" in str(exc):
            return None
        if "AccessDenied" in str(exc):  # an optional parameter the role may not read: as good as absent
            import logging

            logging.getLogger(__name__).warning("SSM parameter %s cannot be read (access denied); ignoring it", name)
            return None
        raise _explain(name, exc) from None


def ssm_layer(settings: StageSettings, gathering: Gathering | None = None) -> tuple[dict[str, Any], str | None]:
    """The SSM layer of the configuration (the manifest-shaped JSON in ``mlops-{region}-{env}-training-settings``)
    and the default manifest's URI (``mlops-{region}-{env}-default-manifest``); each may be absent.

    Args:
        gathering: where the document's invalid keys go (:class:`~model_training.config.problems.Gathering`): the
            layer is then its valid keys, whose values the configuration checks with the other layers' (every
            problem at once); default: raised.

    Raises:
        ConfigurationError: the settings parameter is not a valid manifest document (with ``gathering``: not JSON,
            not an object, too large).
    """
    from model_training.config.manifest import manifest_settings, read_manifest

    name = settings.parameter_name("training-settings")
    text = optional_parameter(settings, name)
    layer: dict[str, Any] = {}
    if text:
        origin = f"SSM parameter {name}"
        manifest, problems, _ = read_manifest(text, origin)
        if problems:
            error = ConfigurationError.of(problems, "invalid manifest", uri=origin, hint="see: model-training manifest schema")
            if gathering is None:
                raise error
            gathering.errors.append(error)
        layer = manifest_settings(manifest)
    return layer, optional_parameter(settings, settings.parameter_name("default-manifest"))


def training_limits(settings: StageSettings) -> Any:
    """The ceilings of a run's costly settings (:class:`~model_training.config.limits.Limits`): defaults <
    environment < the optional SSM parameter ``mlops-{region}-{env}-training-limits`` (JSON).

    Raises:
        ConfigurationError: a ceiling cannot be read (naming the variable or the SSM key).
    """
    from model_training.config.limits import limits_from

    name = settings.parameter_name("training-limits")
    return limits_from(ssm_text=optional_parameter(settings, name), ssm_name=name)


def _fallback_role_arn(settings: StageSettings) -> str:
    from model_training import aws

    identity = aws.client("sts", settings.region).get_caller_identity()
    partition = str(identity["Arn"]).split(":")[1]
    return f"arn:{partition}:iam::{identity['Account']}:role/{settings.role_name}"


def clear_cache() -> None:
    """Forget cached SSM values and providers (tests)."""
    _provider.cache_clear()
