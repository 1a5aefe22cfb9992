"""The oracle: SageMaker's XGBoost container code, run under the library versions its image pins.

``oracle_3_0_5`` and ``oracle_1_7_1`` (or ``oracle(version)`` through ``oracles``) give an
:class:`Oracle` that runs a script from ``tests/oracle/scripts/`` in that image's environment
(``tests/oracle/envs.py`` builds it, ``make test`` first) with the container's source on ``PYTHONPATH``.
Where ``../shared/oracles`` is absent the tests skip with the reason; under CI they fail.
"""

from __future__ import annotations

import json
import signal
import subprocess
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.oracle import envs

SCRIPTS = Path(__file__).resolve().parent / "scripts"


@dataclass(frozen=True)
class Oracle:
    """One image version's container code, runnable in its own environment."""

    version: str
    python: Path

    @property
    def xgboost_version(self) -> str:
        return envs.image_xgboost_version(self.version)

    def run(self, script: str, payload: Any = None, *, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 600) -> Any:  # fmt: skip
        """Run ``scripts/{script}`` with ``payload`` as JSON on stdin; returns the JSON it prints last.

        A script killed by SIGSEGV is run once more, with a warning: the image's XGBoost 3.0.5 was seen to crash
        once in a few thousand runs on a loaded machine (in ``libxgboost.so``, no output, passing on every rerun);
        a crash that our data causes crashes again and fails.

        Raises:
            AssertionError: the script failed (its stderr is in the message).
        """
        for attempt in (1, 2):
            proc = subprocess.run(
                [str(self.python), str(SCRIPTS / script)],
                input=json.dumps(payload),
                capture_output=True,
                text=True,
                cwd=cwd,
                env={**envs.environment(self.version), **(env or {})},
                timeout=timeout,
            )
            if proc.returncode != -signal.SIGSEGV or attempt == 2:
                break
            warnings.warn(f"oracle {self.version} {script} crashed (SIGSEGV); running it once more", stacklevel=2)
        assert proc.returncode == 0, f"oracle {self.version} {script} failed:\n{proc.stderr[-4000:]}"
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{") or line.startswith("[")]
        assert lines, f"oracle {self.version} {script} printed no JSON:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        return json.loads(lines[-1])


def _get(version: str) -> Oracle:
    if not envs.source_dir(version).is_dir():
        message = f"the container's source for {version} is not at {envs.source_dir(version)}"
        if envs.in_ci():
            pytest.fail(message + "; CI must have ../shared/oracles", pytrace=False)
        pytest.skip(message + "; clone the project beside its shared/ folder, or set MODEL_TRAINING_ORACLES")
    if not envs.is_built(version):
        try:
            envs.build(version)
        except (SystemExit, subprocess.CalledProcessError) as exc:
            message = f"the {version} oracle environment could not be built: {exc}"
            if envs.in_ci():
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    return Oracle(version, envs.python_of(version))


@pytest.fixture(scope="session")
def oracles() -> Callable[[str], Oracle]:
    """``oracles("3.0-5")`` -> the :class:`Oracle` of that image version (built on first use)."""
    cache: dict[str, Oracle] = {}

    def get(version: str) -> Oracle:
        if version not in cache:
            cache[version] = _get(version)
        return cache[version]

    return get
