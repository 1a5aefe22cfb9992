"""Cold-start benchmark: what a fresh Lambda interpreter pays before and during its first invocation.

    python benchmarks/cold_start_bench.py --runs 7      (part of: make bench)

1. Imports (issue 16's target): ``import model_training.handler`` against ``import boto3``, each in fresh
   interpreters under ``python -X importtime`` (interleaved, ``--runs`` of each, medians).  A figure is the sum of
   the cumulative times of the top-level imports of that package (``model_training`` and ``model_training.handler``;
   ``boto3``): the interpreter's own start-up and ``site`` are left out of both.  The handler does not import boto3
   itself (its first AWS call does), so the first invocations below are where boto3 is counted.  Beside the medians:
   the fastest run of each, and the ratio of the interpreters' CPU times (an empty interpreter's subtracted), which
   other work on a shared machine moves less than wall times.
2. First invocations (informational, and lean-path checks): the handler run in a fresh interpreter against moto's
   server (:func:`model_training.offline.local_aws`), once per kind of event, each after the same import: an S3
   event that splits the bank data (``/work/shared/data``, ``MODEL_TRAINING_SHARED_DATA``) and starts a training
   job, the same event again (a duplicate delivery), the training job's ``SageMaker Training Job State Change``
   event, and an S3 event for one of the stage's own outputs (skipped).  For each: the modules the invocation
   imported (count, and the sum of their top-level ``-X importtime`` cumulative times), the invocation's wall time,
   and which of numpy, pyarrow, pandas and pydantic it imported.  A duplicate, a job event and a skipped object must
   not import numpy or pyarrow (they never split); a splitting event needs them.

Each measurement runs in its own child process, so nothing is imported twice or cached between them.  The moto
server is in this process; its latency is part of the invocation times (not of the import counts).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from targets import check

REPO = Path(__file__).resolve().parents[1]
BANK = Path(os.environ.get("MODEL_TRAINING_SHARED_DATA", REPO.parent / "shared" / "data")) / "bank-preprocessed.csv"

#: The libraries whose import a first invocation is checked for (the heavy ones, and pydantic).
WATCHED = ("numpy", "pyarrow", "pandas", "pydantic", "boto3")
#: Libraries that an invocation that does not split must not import.
SPLIT_ONLY = ("numpy", "pyarrow")

MARK = "--cold-start-bench: invoking--"

#: One first invocation in a fresh interpreter: the handler's import, then ``lambda_handler(event, None)``; prints
#: one ``RESULT`` line (JSON) with the invocation's wall time, the modules it added and the results' statuses.
INVOKE = f"""
import json, sys, time
event = json.loads(sys.argv[1])
started = time.perf_counter()
import model_training.handler as handler
imported = time.perf_counter()
before = set(sys.modules)
print({MARK!r}, file=sys.stderr, flush=True)
response = handler.lambda_handler(event, None)
done = time.perf_counter()
added = set(sys.modules) - before
roots = {{name.split(".")[0] for name in added}} - {{name.split(".")[0] for name in before}}
print("RESULT " + json.dumps({{
    "import_s": imported - started,
    "invoke_s": done - imported,
    "modules": len(added),
    "watched": sorted(roots & set({WATCHED!r})),
    "results": response["results"],
}}), flush=True)
"""


def top_level_seconds(importtime: str, packages: tuple[str, ...]) -> float:
    """The sum of the cumulative times (seconds) of the top-level imports in ``-X importtime`` output whose first
    name component is one of ``packages`` (all top-level imports when ``packages`` is empty)."""
    total = 0
    for line in importtime.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\S.*)$", line)  # one space: top level
        if match and (not packages or match.group(3).split(".")[0] in packages):
            total += int(match.group(2))
    return total / 1e6


def import_seconds(statement: str, packages: tuple[str, ...]) -> tuple[float, float]:
    """Seconds ``statement`` spends importing ``packages`` in a fresh interpreter (``-X importtime``, wall), and the
    CPU seconds (user + system) of that whole interpreter, start-up included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True, check=True, env=os.environ
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return top_level_seconds(done.stderr, packages), cpu


def invoke(event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """One first invocation of the handler with ``event`` in a fresh interpreter; the child's ``RESULT`` plus
    ``import_time_s`` (the top-level imports during the invocation, from ``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", INVOKE, json.dumps(event)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"the handler failed in its child process:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    result["import_time_s"] = top_level_seconds(done.stderr.split(MARK, 1)[1], ())
    return result


def measure_imports(runs: int) -> tuple[list[float], list[float], float]:
    """Seconds of ``import model_training.handler`` and of ``import boto3``, ``runs`` interleaved fresh interpreters
    each (``-X importtime``); and the ratio of their median CPU times, an empty interpreter's subtracted (less
    sensitive to other work on the machine than wall times)."""
    handler, boto3, cpu = [], [], {"handler": [], "boto3": [], "empty": []}
    for _ in range(runs):
        for name, statement, package, into in (
            ("handler", "import model_training.handler", "model_training", handler),
            ("boto3", "import boto3", "boto3", boto3),
            ("empty", "pass", "", None),
        ):
            wall, used = import_seconds(statement, (package,))
            cpu[name].append(used)
            if into is not None:
                into.append(wall)
    empty = statistics.median(cpu["empty"])
    cpu_ratio = (statistics.median(cpu["handler"]) - empty) / max(statistics.median(cpu["boto3"]) - empty, 1e-6)
    return handler, boto3, cpu_ratio


def first_invocations() -> list[tuple[str, dict[str, Any]]]:
    """The handler's first invocation for each kind of event, each in a fresh interpreter against moto's server."""
    from model_training.offline import local_aws, provision, s3_event, upload

    sys.path.insert(0, str(REPO))
    from tests.fixtures import training_job_event  # the event the tests deliver (moto creates jobs completed)

    with local_aws() as endpoint:
        pipeline = provision()
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "SERVERLESS_ENVIRONMENT": pipeline.environment,
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        key = "automl/bank/bank-preprocessed.csv"
        uploaded = upload(pipeline.data_bucket, key, BANK.read_bytes())
        event = s3_event(pipeline.data_bucket, key, region=pipeline.region, **uploaded)
        split = invoke(event, env)
        found = split["results"][0]
        if found["status"] != "started":
            raise SystemExit(f"the splitting event did not start a job: {found}")
        duplicate = invoke(event, env)
        job = invoke(training_job_event(found["job_name"], "Completed"), env)  # in local_aws()'s region
        output = found["outputs"]["train"].removeprefix(f"s3://{pipeline.data_bucket}/")
        skipped = invoke(s3_event(pipeline.data_bucket, output, region=pipeline.region), env)
    return [
        ("split (S3 event)", split),
        ("duplicate delivery", duplicate),
        ("job state change", job),
        ("skipped object", skipped),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per import measured (median)")
    parser.add_argument("--no-invocations", action="store_true", help="measure the imports only")
    args = parser.parse_args()

    handlers, boto3s, cpu_ratio = measure_imports(args.runs)
    h, b = statistics.median(handlers), statistics.median(boto3s)
    print(f"\nimports, {args.runs} fresh interpreters each (python -X importtime, top-level cumulative):")
    print(f"  {'':30} {'median':>7} {'fastest':>8}")
    print(f"  import model_training.handler  {h * 1000:4.0f} ms {min(handlers) * 1000:5.0f} ms")
    print(f"  import boto3                   {b * 1000:4.0f} ms {min(boto3s) * 1000:5.0f} ms")
    print(f"  ratio                          {h / b:6.2f}x {min(handlers) / min(boto3s):7.2f}x")
    print(f"  ratio of CPU times (user + system, an empty interpreter's subtracted, medians): {cpu_ratio:.2f}x")

    invocations = [] if args.no_invocations else first_invocations()
    if invocations:
        print("\nfirst invocation in a fresh interpreter, after the handler's import (moto's server):")
        head = f"{'event':<20} {'status':<10} {'init s':>7} {'invoke s':>9} {'modules':>8} {'import ms':>10}"
        print(f"  {head}  libraries imported")
        for name, r in invocations:
            statuses = ",".join(sorted({x["status"] for x in r["results"]}))
            watched = ", ".join(r["watched"]) or "-"
            print(
                f"  {name:<20} {statuses:<10} {r['import_s']:7.2f} {r['invoke_s']:9.2f} {r['modules']:8d} "
                f"{r['import_time_s'] * 1000:10.0f}  {watched}"
            )
        print(
            "  (init: the handler's import, wall; invoke: the first invocation, wall, moto's server included; modules and"
            " import ms: what the invocation imported)"
        )

    print()
    check(
        "cold start",
        f"import model_training.handler {h * 1000:.0f} ms vs import boto3 {b * 1000:.0f} ms: {h / b:.2f}x",
        "at most 1.5x",
        h <= 1.5 * b,
    )
    for name, r in invocations[1:]:
        heavy = sorted(set(r["watched"]) & set(SPLIT_ONLY))
        check(
            "cold start",
            f"a first {name} imports {', '.join(heavy) or 'neither numpy nor pyarrow'} ({r['modules']} modules)",
            "no numpy or pyarrow",
            not heavy,
        )


if __name__ == "__main__":
    main()
