"""Build the oracle environments: one virtual environment per SageMaker XGBoost image version, holding
the library versions that image pins, so that the container's own code (``../shared/oracles``) can judge
our channels, requests, hyperparameters and models as the real image would.

Each environment lives in ``.oracle-envs/{version}`` (git-ignored) and is made from the image's own
files, read from the oracle folder at build time, never copied here:

* Python: the image's (``PYTHON_VERSION`` in ``Dockerfile.base.cpu``: 3.10), found on ``PATH`` or under
  pyenv; without it the build fails and says so.
* ``requirements.txt``: every pin, except packages that only serve GPUs, the multi-model server or
  plotting, which no code path we call imports (``_LEFT_OUT``).
* ``XGBOOST_VERSION`` and ``PYARROW_VERSION`` from ``Dockerfile.base.cpu``; XGBoost 2.1 and later come
  as the ``xgboost-cpu`` wheel (the same library without the NCCL GPU runtime), older ones as ``xgboost``.
* What ``Dockerfile.final.cpu`` adds: the ``protobuf`` bound, and its patch of ``sagemaker_containers``
  (``collections.Mapping`` -> ``collections.abc.Mapping``, so the package imports on Python 3.10).
* ``dask``'s ``distributed`` at the ``dask`` pin (the training module imports it at the top), and
  ``smdebug`` where the container imports it (1.7-1: the image builds it from a git tag; PyPI's 1.0.34 is
  the nearest release, and its hook stays off without a debugger config).
* ``mlio`` is conda-only and used for Pipe mode and parquet, not CSV in File mode: a stub package
  (``tests/oracle/stubs``) raises if any of it is called.

A stamp file records what was installed; an unchanged environment is not rebuilt.

For each image version but the default, ``.oracle-envs/ours-{version}`` holds our own package with that
image's XGBoost (:func:`build_ours`), to train locally as that image does.

Usage: ``python tests/oracle/envs.py [VERSION ...]`` (all versions by default).  Prints one line per
version.  Without the oracle folder, or when an environment cannot be built (no Python 3.10 here), it says
so and exits 0, so the tests that need it skip with the reason; under CI (``CI`` set) both fail.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ORACLES = Path(os.environ.get("MODEL_TRAINING_ORACLES", REPO.parent / "shared" / "oracles")) / "sagemaker-xgboost-container"
ENVS = Path(os.environ.get("MODEL_TRAINING_ORACLE_ENVS", REPO / ".oracle-envs"))
STUBS = Path(__file__).resolve().parent / "stubs"
VERSIONS = ("3.0-5", "1.7-1")

#: Pinned packages no code path of ours reaches: GPU-only (dask-cuda, cuda-python, pynvml), the
#: multi-model server (needs Java), plotting, a JIT, and build tools.
_LEFT_OUT = {
    "dask-cuda",
    "cuda-python",
    "pynvml",
    "multi-model-server",
    "matplotlib",
    "pillow",
    "numba",
    "gevent",
    "cryptography",
    "wheel",
    "setuptools",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def source_dir(version: str) -> Path:
    """The container's source folder for an image version (``.../{version}/src``)."""
    return ORACLES / version / "src"


def env_dir(version: str) -> Path:
    return ENVS / version


def python_of(version: str) -> Path:
    """The interpreter of a built environment."""
    return env_dir(version) / "bin" / "python"


def _docker_arg(version: str, name: str) -> str:
    text = (ORACLES / version / "Dockerfile.base.cpu").read_text(encoding="utf-8")
    match = re.search(rf"^ARG {name}=(\S+)", text, re.M)
    if not match:
        raise SystemExit(f"{name} not found in {ORACLES / version / 'Dockerfile.base.cpu'}")
    return match.group(1)


def image_xgboost_version(version: str) -> str:
    """The XGBoost version the image installs (``XGBOOST_VERSION`` of its base Dockerfile)."""
    return _docker_arg(version, "XGBOOST_VERSION")


def xgboost_requirement(version: str) -> str:
    """The pip requirement of image ``version``'s XGBoost: ``xgboost-cpu`` from 2.1 on (the same library
    without the NCCL GPU runtime), ``xgboost`` before."""
    xgb = image_xgboost_version(version)
    major, minor = (int(p) for p in xgb.split(".")[:2])
    return f"{'xgboost-cpu' if (major, minor) >= (2, 1) else 'xgboost'}=={xgb}"


def requirements(version: str) -> list[str]:
    """The pip requirements of the oracle environment for ``version``, in install order."""
    pins: dict[str, str] = {}
    for raw in (ORACLES / version / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name = re.split(r"[<>=!\[ ;]", line, maxsplit=1)[0].lower()
        if name not in _LEFT_OUT:
            pins[name] = line
    dask = re.search(r"==(\S+)", pins.get("dask", pins.get("dask[dataframe]", "")))
    extra = [
        xgboost_requirement(version),
        f"pyarrow=={_docker_arg(version, 'PYARROW_VERSION')}",
        "protobuf>=3.20.0,<=3.20.3",  # Dockerfile.final.cpu
    ]
    if dask:
        extra.append(f"distributed=={dask.group(1)}")
    if _imports_smdebug(version):
        # the image builds sagemaker-debugger from a git tag (unreachable here); PyPI's last release is
        # the nearest, and its hook stays off without a debugger config, as in a plain training job
        extra.append("smdebug==1.0.34")
    pins.pop("protobuf", None)
    return [*pins.values(), *extra]


def _imports_smdebug(version: str) -> bool:
    return any("smdebug" in p.read_text(encoding="utf-8") for p in source_dir(version).rglob("*.py"))


def find_python(version: str) -> str:
    """The image's Python (``PYTHON_VERSION``) on this machine.

    Raises:
        SystemExit: not found, with how to get it.
    """
    wanted = _docker_arg(version, "PYTHON_VERSION")
    candidates = [shutil.which(f"python{wanted}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{wanted}*/bin/python{wanted}")), reverse=True)
    candidates += sorted(glob.glob(f"/root/.pyenv/versions/{wanted}*/bin/python{wanted}"), reverse=True)
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate  # a pyenv shim of a version not selected exists but fails
    raise SystemExit(
        f"the {version} image runs Python {wanted}, which is not on this machine: install it "
        f"(`pyenv install {wanted}` or your system's python{wanted}) and run this again"
    )


def _stamp(version: str, python: str) -> str:
    payload = json.dumps({"python": python, "requirements": requirements(version)})
    return hashlib.sha256(payload.encode()).hexdigest()


def is_built(version: str) -> bool:
    """Whether the environment for ``version`` exists and matches what :func:`build` would install."""
    stamp, recorded = env_dir(version) / "oracle-stamp", env_dir(version) / "oracle-python"
    if not (stamp.is_file() and recorded.is_file() and python_of(version).exists()):
        return False
    return stamp.read_text().strip() == _stamp(version, recorded.read_text().strip())


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """One builder at a time per environment (pytest workers, a developer's shell and ``make`` may race)."""
    ENVS.mkdir(parents=True, exist_ok=True)
    with open(ENVS / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build(version: str) -> Path:
    """Build (or keep) the environment for ``version``; returns its interpreter.

    Raises:
        SystemExit: the image's Python is missing, or pip failed (its output is shown).
    """
    with _locked(version):
        return _build(version)


def _build(version: str) -> Path:
    python = find_python(version)
    target = env_dir(version)
    stamp = _stamp(version, python)
    if is_built(version) and (target / "oracle-stamp").read_text().strip() == stamp:
        return python_of(version)
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(target)], check=True)
    pip = [str(python_of(version)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    reqs = requirements(version)
    subprocess.run([*pip, *reqs], check=True)
    # sagemaker-containers' own requirements pin versions the image overrides: install it as the image ends up with it
    containers = next(r for r in reqs if r.startswith("sagemaker-containers"))
    subprocess.run([*pip, "--no-deps", "--force-reinstall", containers], check=True)
    site = subprocess.run(
        [str(python_of(version)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    mapping = Path(site) / "sagemaker_containers" / "_mapping.py"
    mapping.write_text(mapping.read_text().replace("collections.Mapping", "collections.abc.Mapping"))
    check = f"import xgboost, sagemaker_containers; assert xgboost.__version__ == {image_xgboost_version(version)!r}"
    subprocess.run([str(python_of(version)), "-c", check], check=True, env=environment(version))
    (target / "oracle-python").write_text(python + "\n")
    (target / "oracle-stamp").write_text(stamp + "\n")
    return python_of(version)


def ours_dir(version: str) -> Path:
    return ENVS / f"ours-{version}"


def build_ours(version: str) -> Path:
    """An environment that runs *our* package with the XGBoost release of image ``version`` (what the local
    backend's error tells a user to install), so it trains as that image does; returns its interpreter.  The
    default image's release is the project's own pin, so ``.venv`` serves for it."""
    with _locked(f"ours-{version}"):
        return _build_ours(version)


def _build_ours(version: str) -> Path:
    target = ours_dir(version)
    reqs = [xgboost_requirement(version), "matplotlib", "scikit-learn"]  # the local extra's other packages
    stamp = hashlib.sha256(json.dumps([sys.version, reqs]).encode()).hexdigest()
    python = target / "bin" / "python"
    if (target / "oracle-stamp").is_file() and (target / "oracle-stamp").read_text().strip() == stamp and python.exists():
        return python
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", str(REPO), *reqs], check=True)
    (target / "oracle-stamp").write_text(stamp + "\n")
    return python


def environment(version: str) -> dict[str, str]:
    """The process environment that runs the container's code: its source and the stubs on ``PYTHONPATH``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONPATH"] = os.pathsep.join([str(source_dir(version)), str(STUBS)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] = "python"
    return env


def main(argv: list[str]) -> int:
    if not ORACLES.is_dir():
        consequence = "CI needs it: the tests that need it fail" if in_ci() else "the tests that need it will skip"
        print(f"oracle environments: {ORACLES} not found, nothing built ({consequence})", file=sys.stderr)
        return 1 if in_ci() else 0
    for version in argv or VERSIONS:
        try:
            interpreter = build(version)
            print(f"oracle environment {version}: {interpreter} (XGBoost {image_xgboost_version(version)})")
            if version != VERSIONS[0]:
                print(f"our package with the {version} image's XGBoost: {build_ours(version)}")
        except (SystemExit, subprocess.CalledProcessError) as exc:
            if in_ci():
                raise
            # a developer's machine without the image's Python: the tests that need it skip with this reason
            print(f"oracle environment {version} not built ({exc}); the tests that need it will skip", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
