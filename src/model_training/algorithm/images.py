"""Algorithm image URIs of SageMaker's built-in XGBoost, for any region.

``{account}.dkr.ecr.{region}.{dnsSuffix}/sagemaker-xgboost:{version}``: the account per region is the
one the SageMaker Python SDK lists for the algorithm (``image_uri_config/xgboost.json``, identical for
1.7-1 and 3.0-5), the DNS suffix is the region's partition's (``amazonaws.com``, ``amazonaws.com.cn``,
the ISO partitions') as botocore's endpoint data gives it, which is how the SDK's
``image_uris.retrieve("xgboost", region, version)`` builds it.  A test compares every region with the
SDK.  We do not import the SDK at run time: it is hundreds of MB and seconds of import.
"""

from __future__ import annotations

from functools import cache

from model_training.errors import ConfigurationError

#: The image versions (tags) the stage starts jobs with, each with the XGBoost release it trains and serves
#: with (the ``XGBOOST_VERSION`` its Dockerfile pins): a model trained elsewhere is served identically only if
#: that release trained it.  The one list of supported versions: everything else derives from it.
IMAGE_XGBOOST: dict[str, str] = {"1.7-1": "1.7.4", "3.0-5": "3.0.5"}
#: The supported versions, oldest first.
IMAGE_VERSIONS: tuple[str, ...] = tuple(IMAGE_XGBOOST)
#: The version used when none is given.
DEFAULT_IMAGE_VERSION = "3.0-5"
#: Versions that select the legacy XGBoost 0.72 algorithm (image ``xgboost:1``; ``latest`` is the same image),
#: which takes other hyperparameters and is deprecated: refused, with a message that says so.
LEGACY_VERSIONS = frozenset({"1", "latest", "0.72"})
REPOSITORY = "sagemaker-xgboost"

#: Account of the algorithm's ECR registry per region (SageMaker Python SDK, image_uri_config/xgboost.json).
REGISTRIES: dict[str, str] = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "ca-west-1": "190319476487",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-iso-east-1": "833128469047",
    "us-isob-east-1": "281123927165",
    "us-isof-east-1": "108575199400",
    "us-isof-south-1": "124985052026",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}


def image_uri(region: str, version: str = DEFAULT_IMAGE_VERSION) -> str:
    """The ``TrainingImage`` for ``version`` in ``region``.

    Raises:
        ConfigurationError: one of :data:`LEGACY_VERSIONS` (the legacy 0.72 algorithm, which the original stage
            asked for by accident), a version the stage does not support, or a region without the image.
    """
    if version in LEGACY_VERSIONS:
        raise ConfigurationError(
            f"algorithm version {version!r} is the legacy XGBoost 0.72 algorithm (image 'xgboost:1'), not a current release",
            f"use one of {', '.join(IMAGE_VERSIONS)} (default {DEFAULT_IMAGE_VERSION})",
        )
    if version not in IMAGE_VERSIONS:
        raise ConfigurationError(f"algorithm version {version!r} is not supported", f"use one of {', '.join(IMAGE_VERSIONS)}")
    account = REGISTRIES.get(region)
    if account is None:
        raise ConfigurationError(
            f"the built-in XGBoost algorithm has no image in region {region!r}",
            f"use one of: {', '.join(sorted(REGISTRIES))}",
        )
    return f"{account}.dkr.ecr.{region}.{_dns_suffix(region)}/{REPOSITORY}:{version}"


def image_version(image: str) -> str:
    """The version tag of an algorithm image URI (``...sagemaker-xgboost:3.0-5`` -> ``3.0-5``;
    ``-cpu-py3`` dropped); the default version when the URI has no tag."""
    tail = image.rsplit("/", 1)[-1]
    tag = tail.rsplit(":", 1)[-1] if ":" in tail else DEFAULT_IMAGE_VERSION
    return tag.removesuffix("-cpu-py3")


def serving_image_name(version: str) -> str:
    """The algorithm image that serves a model trained for ``version``, named without a registry
    (``sagemaker-xgboost:3.0-5``): the same repository and tag in every region's registry."""
    return f"{REPOSITORY}:{version}"


@cache
def _dns_suffix(region: str) -> str:
    import botocore.loaders
    import botocore.regions

    resolver = botocore.regions.EndpointResolver(botocore.loaders.create_loader().load_data("endpoints"))
    endpoint = resolver.construct_endpoint("ecr", region)
    if endpoint and endpoint.get("dnsSuffix"):
        return str(endpoint["dnsSuffix"])
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
