"""Targets the benchmarks check, and the one table `make bench` ends with.

Each benchmark script calls :func:`check` for every target it measures: the line is printed at once
(``[met]`` or ``[NOT MET]``, the figure, the target) and, when ``MODEL_TRAINING_BENCH_REPORT`` names a
file, appended to it as one JSON object per line.  ``python benchmarks/targets.py FILE script...`` then
prints every recorded target in one table, names a script that recorded nothing (it failed or was not
run), and exits 1 when a target was not met or a script is missing, so that ``make bench`` says in its last
lines whether the round's targets hold on this machine.

The ratios are always taken within one run (ours and its baseline measured one after the other on the
same machine), because absolute figures on a shared machine move by 10-20% from run to run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPORT_ENV = "MODEL_TRAINING_BENCH_REPORT"


def check(area: str, figure: str, target: str, met: bool) -> bool:
    """Print one target as met or not and record it for the summary; returns ``met``.

    ``area`` groups targets in the table (``split``, ``S3``, ``local run``, ``cold start``); ``figure`` is
    what was measured, with its baseline and ratio (``2.31 s vs 2.05 s: 1.13x``); ``target`` is the bound
    (``at most 1.5x``)."""
    print(f"  [{'met' if met else 'NOT MET'}] {area}: {figure} (target {target})", flush=True)
    report = os.environ.get(REPORT_ENV)
    if report:
        record = {"script": Path(sys.argv[0]).name, "area": area, "figure": figure, "target": target, "met": bool(met)}
        with open(report, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
    return met


def summary(report: Path, scripts: list[str]) -> int:
    """Print every target recorded in ``report`` and name the ``scripts`` that recorded none; 0 when all
    were met and every script recorded, else 1."""
    records = []
    if report.exists():
        records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines() if line.strip()]
    missing = [name for name in scripts if not any(r["script"] == name for r in records)]
    print("\nmake bench: every target, from this run\n")
    width = max([len(r["area"]) for r in records] + [10])
    for r in records:
        print(f"  {'met    ' if r['met'] else 'NOT MET'}  {r['area']:<{width}}  {r['figure']} (target {r['target']})")
    for name in missing:
        print(f"  MISSING  {name} recorded no target: it failed or was not run (see its output above)")
    failed = sum(not r["met"] for r in records)
    print(f"\n{len(records) - failed} of {len(records)} targets met" + (f"; {len(missing)} script(s) missing" if missing else ""))
    return 0 if not failed and not missing else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python benchmarks/targets.py REPORT [script.py ...]")
    sys.exit(summary(Path(sys.argv[1]), sys.argv[2:]))
