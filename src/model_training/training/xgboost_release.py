"""Which XGBoost release may train locally: only the one the job's image runs
(:data:`~model_training.algorithm.images.IMAGE_XGBOOST`: 3.0-5 runs 3.0.5, 1.7-1 runs 1.7.4), so that a model
trained here is one the image's own serving code loads with the same parameters and the same predictions.
"""

from __future__ import annotations

from model_training.algorithm.images import DEFAULT_IMAGE_VERSION, IMAGE_XGBOOST
from model_training.errors import Setting, XGBoostVersionError
from model_training.training.xgboost_import import import_xgboost


def installed_xgboost() -> str | None:
    """The XGBoost release this process imports (``xgboost.__version__``), or ``None`` without one; imported
    without scikit-learn and pandas (:func:`~model_training.training.xgboost_import.import_xgboost`)."""
    try:
        xgboost = import_xgboost()
    except ImportError:
        return None
    return str(xgboost.__version__)


def _xgboost_distributions() -> list[str]:
    """The XGBoost distributions installed (``xgboost``, ``xgboost-cpu``), as ``"name version"``."""
    from importlib import metadata

    found = []
    for dist in ("xgboost", "xgboost-cpu"):
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return found


def check_xgboost(version: str) -> str:
    """The installed XGBoost release, if it is the one image ``version`` trains and serves with.

    Args:
        version: the algorithm image version (``3.0-5``, ``1.7-1``).

    Returns:
        The release, e.g. ``"3.0.5"``.

    Raises:
        XGBoostVersionError: XGBoost is missing, or another release is installed: a model it trains may
            load in the image with other parameters (XGBoost 3.2's ``base_score`` reads as 0.5 in 3.0.5,
            shifting every prediction), so nothing is trained; the hint says what to install.
    """
    wanted = IMAGE_XGBOOST.get(version)
    if wanted is None:
        raise XGBoostVersionError(f"algorithm version {version!r} is not supported", f"use one of {', '.join(IMAGE_XGBOOST)}")
    found = installed_xgboost()
    if found == wanted:
        return found
    package = "xgboost-cpu" if tuple(int(p) for p in wanted.split(".")[:2]) >= (2, 1) else "xgboost"
    installed = _xgboost_distributions()
    if version == DEFAULT_IMAGE_VERSION:  # the local extra's own pin
        hint = f"install the local extra's release: pip install '{package}=={wanted}'"
    else:  # a release of its own beside this package's pin overwrites it: another environment
        hint = (
            f"train for {version} in an environment of its own with XGBoost {wanted} (README, Installing without make: "
            f"python3 -m venv .venv-{version.split('-')[0]} && .venv-{version.split('-')[0]}/bin/pip install -e . "
            f"'{package}=={wanted}' matplotlib scikit-learn)"
        )
    matching = [v for v, x in IMAGE_XGBOOST.items() if x == found]
    if matching:
        hint += f"; or choose image {matching[0]} (MODEL_TRAINING_ALGORITHM_VERSION), which XGBoost {found} serves"
    if found is None and len(installed) > 1:  # two distributions of one module overwrite each other's files
        hint = f"keep one of them: pip uninstall -y {' '.join(d.split()[0] for d in installed)}, then " + hint
    if found:
        what = f"XGBoost {found} is installed"
    elif len(installed) > 1:
        what = f"XGBoost does not import: {' and '.join(installed)} are installed and overwrite each other's files"
    else:
        what = "XGBoost is not installed"
    raise XGBoostVersionError(
        f"image sagemaker-xgboost:{version} trains and serves with XGBoost {wanted}, but {what}: a model trained "
        "locally must be trained by the release that will serve it",
        (hint, "; or train on SageMaker (", Setting("backend", "sagemaker"), ")"),
    )
