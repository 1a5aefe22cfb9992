"""Scale benchmark (issue 15): the split inside the Lambda function against the SageMaker Processing job's command,
and local training with 1, 2 and 4 workers, on the bank data replicated ``--copies`` times (x200: 1.9 GB).

    python benchmarks/scale_bench.py --copies 200          (or: make bench-scale)

(a) On moto's server (:func:`model_training.offline.local_aws`, the pipeline provisioned), the xN object is uploaded
(a managed, multipart upload) and its S3 event delivered to ``lambda_handler`` in a child process with a Lambda-like
environment (the SAM template's memory size, the processing image and role set) and context (15 minutes): the split
inside the function.  The run folder is then emptied (every version), ``MODEL_TRAINING_MAX_OBJECT_BYTES`` set one
byte under the object's size, and the event delivered again: the function hands off.  The processing job's command
(``DescribeProcessingJob``'s ``ContainerEntrypoint``) runs in a child process with the job's environment (from
``handoff.json``; its volume a folder here), against the same endpoint.  Both must write the same keys and bytes.

(b) ``model-training run FILE --backend local`` with ``MODEL_TRAINING_INSTANCE_COUNT`` 1, 2, 4 (``--workers``), each
in a child process: wall time, the training time and validation metrics its ``run.json`` records.

Peak memory is each child's ``ru_maxrss`` from ``os.wait4`` (for a job of several workers: its largest process).
Children are started by a small launcher process started before this one imports anything large: a child's
``ru_maxrss`` starts at its parent's high-water mark (Linux carries it over ``exec``), and this process hosts moto's
server, which holds the data.  The split mode each used is the stage's own decision under that child's environment
(:meth:`~model_training.config.settings.StageSettings.stream_options` against
:func:`~model_training.split.size.in_memory_size`), asked by a probe in each one's environment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from split_bench import BANK, REPO, build_input

SRC = REPO / "src"
KEY_TEMPLATE = "automl/bank-x{copies}.csv"
#: The deployment's processing image and role (any values: moto records the job, the bench runs its command).
PROCESSING_IMAGE = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/model-training:bench"
PROCESSING_ROLE = "arn:aws:iam::123456789012:role/mlops-processing"
#: A Lambda invocation's limit (the SAM template's ``Timeout``).
LAMBDA_SECONDS = 900

#: The launcher: reads one JSON request a line (argv, env, log), runs it, answers with its exit code, wall seconds and
#: ``ru_maxrss`` (KiB, from ``os.wait4``: the child's and its waited-for descendants' largest).
LAUNCHER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    req = json.loads(line)
    with open(req["log"], "ab") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(req["argv"], env=req["env"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    sys.stdout.write(json.dumps({"code": proc.returncode, "seconds": seconds, "maxrss_kib": usage.ru_maxrss}) + "\n")
    sys.stdout.flush()
"""


@dataclass(frozen=True)
class Measured:
    """One child process: wall seconds (spawn to exit), peak RSS in bytes (``ru_maxrss``), its log file, its exit
    status."""

    seconds: float
    peak_bytes: int
    log: Path
    code: int = 0


#: A row of part (a): what ran, its split mode, its measurement, a note; of part (b): workers, measurement, the run
#: record's ``training``.
RowA = tuple[str, str, Measured, str]
RowB = tuple[int, Measured, dict[str, Any]]


class Launcher:
    """The launcher process (:data:`LAUNCHER`), started while this process is small."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=dict(os.environ)
        )

    def run(self, argv: list[str], env: Mapping[str, str], log: Path, *, check: bool = True) -> Measured:
        """Run ``argv`` with exactly ``env``, its output appended to ``log``.

        Raises:
            SystemExit: with ``check``, it exited with a status other than 0 (the log's tail shown).
        """
        stdin, stdout = self._pipes()
        stdin.write(json.dumps({"argv": argv, "env": dict(env), "log": str(log)}) + "\n")
        stdin.flush()
        answer = json.loads(stdout.readline())
        if check and answer["code"] != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{' '.join(argv[:4])} ... exited with {answer['code']}; {log}:\n{tail}")
        return Measured(answer["seconds"], answer["maxrss_kib"] * 1024, log, answer["code"])

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        return self.proc.stdin, self.proc.stdout

    def close(self) -> None:
        self._pipes()[0].close()
        self.proc.wait()


# --- in the child processes: the Lambda function's side ----------------------------------------------------------


class LambdaContext:
    """What Lambda's context gives the handler: the function's name, memory and ARN, and the time left of a
    ``seconds`` invocation started when this object is made."""

    function_name = "model-training"
    invoked_function_arn = "arn:aws:lambda:eu-west-2:123456789012:function:model-training"
    aws_request_id = "bench-request"

    def __init__(self, seconds: int, memory_mb: int) -> None:
        self.deadline = time.monotonic() + seconds
        self.memory_limit_in_mb = memory_mb

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def split_mode(event: dict[str, Any]) -> dict[str, Any]:
    """The split mode the stage chooses for the event's object under this process's environment: streaming when its
    in-memory estimate is over ``StreamOptions.above_bytes`` (as :func:`model_training.pipeline.run` decides)."""
    from model_training.config.settings import settings_from_env
    from model_training.events import decode_event
    from model_training.split.size import in_memory_size
    from model_training.wiring import object_source

    (ref,) = decode_event(event).items[0].objects
    source = object_source(ref, None)
    expanded = in_memory_size(source, source.size())
    above = settings_from_env().stream_options().above_bytes
    streaming = above is not None and expanded > above
    return {"mode": "streaming" if streaming else "in memory", "estimate_bytes": expanded, "stream_above_bytes": above}


def deliver(event_file: Path, result_file: Path) -> None:
    """The child that stands for the function: import the handler (the cold start), then deliver the event with a
    context of :data:`LAMBDA_SECONDS`; writes ``{"response", "handler_seconds"}`` to ``result_file``."""
    import model_training
    import model_training.handler  # the cold start's imports, before the invocation's clock starts

    event = json.loads(event_file.read_text())
    context = LambdaContext(LAMBDA_SECONDS, int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]))
    started = time.perf_counter()
    response = model_training.lambda_handler(event, context)
    seconds = time.perf_counter() - started
    result_file.write_text(json.dumps({"response": response, "handler_seconds": seconds}))


def probe(event_file: Path, result_file: Path) -> None:
    """The child that asks the stage which split mode it would use under its environment (the function's or the
    job's), apart from the measured children."""
    result_file.write_text(json.dumps(split_mode(json.loads(event_file.read_text()))))


# --- in this process: part (a) ----------------------------------------------------------------------------------


def lambda_memory_mb() -> int:
    """The function's ``MemorySize`` in the SAM template (what Lambda puts in ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``)."""
    found = re.search(r"^\s+MemorySize:\s*(\d+)", (REPO / "template.yaml").read_text(), re.MULTILINE)
    assert found, "template.yaml has no MemorySize"
    return int(found.group(1))


def reach() -> dict[str, str]:
    """What any child needs of this environment: the endpoint and fake credentials :func:`local_aws` set, the
    interpreter's ``PATH`` and ``HOME``, and this clone's ``src`` first on ``PYTHONPATH``."""
    kept = {k: v for k, v in os.environ.items() if k.startswith("AWS_") or k in ("PATH", "HOME", "LANG")}
    return {**kept, "PYTHONPATH": str(SRC)}


def function_env(tmp: Path, memory_mb: int, max_object_bytes: int | None) -> dict[str, str]:
    """The function's environment as the SAM template sets it (SSE left at ``AES256``: moto has no KMS key here),
    and what Lambda adds (``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``: ``memory_mb``); ``/tmp`` is ``tmp``."""
    env = {
        **reach(),
        "SERVERLESS_ENVIRONMENT": "dev",
        "POWERTOOLS_SERVICE_NAME": "model-training",
        "POWERTOOLS_METRICS_NAMESPACE": "ModelTraining",
        "MODEL_TRAINING_PROCESSING_IMAGE": PROCESSING_IMAGE,
        "MODEL_TRAINING_PROCESSING_ROLE_ARN": PROCESSING_ROLE,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_NAME": "model-training",
        "MODEL_TRAINING_TMP_DIR": str(tmp),
    }
    if max_object_bytes is not None:
        env["MODEL_TRAINING_MAX_OBJECT_BYTES"] = str(max_object_bytes)
    return env


def child(name: str, *args: str) -> list[str]:
    """This script run as a child in role ``name`` (``--deliver`` or ``--probe``)."""
    return [sys.executable, str(Path(__file__).resolve()), f"--{name}", *args]


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def run_objects(bucket: str, prefix: str) -> dict[str, tuple[int, str]]:
    """The current objects under ``prefix``: key -> (size, SHA-256), read in 8 MiB pieces (never held whole)."""
    from model_training import aws

    s3 = aws.client("s3")
    found: dict[str, tuple[int, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            digest = hashlib.sha256()
            for chunk in s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].iter_chunks(8 << 20):
                digest.update(chunk)
            found[obj["Key"]] = (obj["Size"], digest.hexdigest())
    return found


def read_json(bucket: str, key: str) -> dict[str, Any]:
    from model_training import aws

    return dict(json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()))


def empty(bucket: str, prefix: str) -> int:
    """Delete every version and delete marker under ``prefix`` (as if never written; moto's disk freed); returns how many."""
    from model_training import aws

    s3 = aws.client("s3")
    gone = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        versions = [
            {"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(versions), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True})
        gone += len(versions)
    return gone


def split_mode_of(launcher: Launcher, event_file: Path, env: Mapping[str, str], work: Path, name: str) -> str:
    """``streaming`` or ``in memory``: the stage's choice for the event's object under ``env`` (:func:`probe`)."""
    answer = work / f"{name}-split-mode.json"
    launcher.run(child("probe", str(event_file), str(answer)), env, work / "probe.log")
    return str(json.loads(answer.read_text())["mode"])


def handler_result(result_file: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The single object's result of a delivery and the whole result file."""
    done = json.loads(result_file.read_text())
    (result,) = done["response"]["results"]
    return result, done


def part_a(launcher: Launcher, src: Path, copies: int, memory_mb: int, work: Path) -> tuple[list[RowA], bool]:
    """The in-function split against the processing job's command (see the module's documentation); returns the
    table's rows (what, split mode, measurement, note) and whether both wrote the same keys and bytes."""
    from model_training import aws
    from model_training.offline import local_aws, provision, s3_event

    rows: list[RowA] = []
    with local_aws() as endpoint:
        pipeline = provision()
        key = KEY_TEMPLATE.format(copies=copies)
        s3 = aws.client("s3")
        started = time.perf_counter()
        s3.upload_file(str(src), pipeline.data_bucket, key)  # boto3's managed transfer: multipart above 8 MB
        head = s3.head_object(Bucket=pipeline.data_bucket, Key=key)
        size = int(head["ContentLength"])
        print(
            f"  moto's server at {endpoint}; uploaded s3://{pipeline.data_bucket}/{key} in {time.perf_counter() - started:.1f} s"
        )
        event = s3_event(pipeline.data_bucket, key, version_id=head["VersionId"], etag=head["ETag"].strip('"'), size=size)
        event_file = work / "event.json"
        event_file.write_text(json.dumps(event))

        lambda_env = function_env(fresh(work / "lambda-tmp"), memory_mb, None)
        inside = launcher.run(child("deliver", str(event_file), str(work / "inside.json")), lambda_env, work / "inside.log")
        here, done = handler_result(work / "inside.json")
        if here["status"] != "started":
            raise SystemExit(f"the function did not split it: {here}")
        mode_here = split_mode_of(launcher, event_file, lambda_env, work, "function")
        note = f"handler {done['handler_seconds']:.1f} s" + (
            " (over Lambda's limit)" if done["handler_seconds"] > LAMBDA_SECONDS else ""
        )
        rows.append(("in-function split (lambda_handler)", mode_here, inside, note))
        print(f"  in-function split: {inside.seconds:.1f} s, {mode_here}, run {here['run_id']}", flush=True)
        record_key = here["run_record"].removeprefix(f"s3://{pipeline.data_bucket}/")
        prefix = record_key.removesuffix("run.json")
        split_here = run_objects(pipeline.data_bucket, prefix)
        record_here = read_json(pipeline.data_bucket, record_key)
        print(f"  emptied the run folder: {empty(pipeline.data_bucket, prefix)} object versions deleted")

        handing = launcher.run(
            child("deliver", str(event_file), str(work / "handing-off.json")),
            function_env(fresh(work / "lambda-tmp"), memory_mb, size - 1),
            work / "handoff.log",
        )
        handed, _ = handler_result(work / "handing-off.json")
        if handed["status"] != "handed off" or handed["run_id"] != here["run_id"]:
            raise SystemExit(f"the second delivery did not hand off run {here['run_id']}: {handed}")
        rows.append(("the delivery that hands off", "-", handing, "CreateProcessingJob, handoff.json"))
        job = aws.client("sagemaker").describe_processing_job(ProcessingJobName=handed["processing_job_name"])
        command = job["AppSpecification"]["ContainerEntrypoint"]
        handoff = read_json(pipeline.data_bucket, handed["handoff_record"].removeprefix(f"s3://{pipeline.data_bucket}/"))
        # the container's environment: the job's Environment (moto keeps none: the hand-off record's copy) and what
        # SageMaker adds (credentials: moto's endpoint); the job's volume is a folder here
        job_env = {**reach(), **handoff["processing_job"]["environment"], "MODEL_TRAINING_TMP_DIR": str(fresh(work / "volume"))}
        instance = handoff["processing_job"]["instance_type"]
        print(f"  processing job {handed['processing_job_name']} on {instance}: {' '.join(command)}")
        mode_there = split_mode_of(launcher, event_file, job_env, work, "job")
        there = launcher.run([sys.executable, *command[1:]], job_env, work / "processing.log")  # python3: the image's
        rows.append(("processing job's command", mode_there, there, instance))
        print(f"  processing command: {there.seconds:.1f} s, {mode_there}", flush=True)

        split_there = run_objects(pipeline.data_bucket, prefix)
        split_there.pop(f"{prefix}handoff.json", None)
        record_there = read_json(pipeline.data_bucket, record_key)
        same = sorted(split_there) == sorted(split_here) and all(
            split_there[k] == v for k, v in split_here.items() if not k.endswith("/run.json")
        )
        fields = ("run_id", "files", "splits")
        same_record = all(record_here[f] == record_there[f] for f in fields) and (
            record_here["training"]["job_name"] == record_there["training"]["job_name"]
        )
        print(
            f"\n  same keys ({len(split_here)}) and bytes: {same}; run.json the same on {', '.join(fields)} and the "
            f"training job's name: {same_record}"
        )
    return rows, same and same_record


# --- part (b) --------------------------------------------------------------------------------------------------


def part_b(launcher: Launcher, src: Path, work: Path, workers: list[int]) -> list[RowB]:
    """``model-training run`` of ``src`` on the local backend with each instance count; returns (workers,
    measurement, the run record's ``training``)."""
    rows = []
    base = {**os.environ, "PYTHONPATH": str(SRC)}
    for count in workers:
        out = fresh(work / f"train-w{count}")
        argv = [sys.executable, "-m", "model_training.cli", "run", str(src), "-o", str(out), "--backend", "local", "--quiet"]
        env = {**base, "MODEL_TRAINING_INSTANCE_COUNT": str(count)}
        # a failed job (exit 3) is reported in the table, not retried: its record says why
        measured = launcher.run([*argv, "--date", "2026-03-04"], env, work / f"train-w{count}.log", check=False)
        records = list(out.rglob("run.json"))
        if measured.code not in (0, 3) or not records:
            raise SystemExit(f"model-training run exited with {measured.code}; see {measured.log}")
        training = json.loads(records[0].read_text())["training"]
        rows.append((count, measured, training))
        metrics = {k: round(v, 5) for k, v in (training.get("final_metrics") or {}).items() if k.startswith("validation:")}
        why = f": {training.get('failure_reason')}; its log: {out / 'training-jobs'}" if training["status"] != "Completed" else ""
        print(f"  {count} worker(s): {measured.seconds:.1f} s, {training['status']}{why}, {metrics}", flush=True)
    return rows


# --- the tables ------------------------------------------------------------------------------------------------


def mb(n: int) -> str:
    return f"{n / 2**20:.0f}"


def print_tables(size: int, part_a_rows: list[RowA], same: bool | None, part_b_rows: list[RowB]) -> None:
    if part_a_rows:
        print(f"\n(a) the split, {size / 1e6:.0f} MB: inside the function against the processing job's command\n")
        print(f"{'':<36} {'split mode':<11} {'seconds':>8} {'MB/s':>6} {'peak RSS MB':>12} {'x input':>8}  note")
        for what, mode, m, note in part_a_rows:
            split = mode != "-"  # the delivery that hands off reads 64 KiB
            rate = f"{size / 1e6 / m.seconds:>6.0f}" if split else f"{'':>6}"
            ratio = f"{m.peak_bytes / size:>8.2f}" if split else f"{'':>8}"
            print(f"{what:<36} {mode:<11} {m.seconds:>8.1f} {rate} {mb(m.peak_bytes):>12} {ratio}  {note}")
        print(f"\nsame keys and bytes, run.json the same on run_id/files/splits: {same}")
    if part_b_rows:
        names = sorted({k for _, _, t in part_b_rows for k in (t.get("final_metrics") or {}) if k.startswith("validation:")})
        print(f"\n(b) local training, {size / 1e6:.0f} MB (split and train; instance_count = workers)\n")
        print(
            f"{'workers':>7} {'status':<10} {'seconds':>8} {'training s':>11} {'peak RSS MB':>12}  "
            + "  ".join(f"{n:>18}" for n in names)
        )
        for count, m, training in part_b_rows:
            values = training.get("final_metrics") or {}
            shown = "  ".join(f"{values[n]:>18.5f}" if n in values else f"{'-':>18}" for n in names)
            seconds = training.get("training_seconds")
            print(
                f"{count:>7} {training['status']:<10} {m.seconds:>8.1f} {seconds if seconds is not None else '-':>11} "
                f"{mb(m.peak_bytes):>12}  {shown}"
            )
        print("\npeak RSS: ru_maxrss of the run's process tree, its largest process (a worker or the run itself)")


@contextmanager
def launched() -> Iterator[Launcher]:
    launcher = Launcher()
    try:
        yield launcher
    finally:
        launcher.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--copies", type=int, default=200, help="replicate the bank data this many times (200: 1.9 GB)")
    parser.add_argument("--workers", default="1,2,4", help="instance counts for local training, comma-separated")
    parser.add_argument("--skip-training", action="store_true", help="part (a) only")
    parser.add_argument("--skip-split", action="store_true", help="part (b) only")
    parser.add_argument(
        "--lambda-memory-mb",
        type=int,
        default=lambda_memory_mb(),
        help="the function's memory (default: the SAM template's); it streams sources above a third of it",
    )
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "model-training-bench")
    parser.add_argument("--deliver", nargs=2, type=Path, metavar=("EVENT", "RESULT"), help=argparse.SUPPRESS)
    parser.add_argument("--probe", nargs=2, type=Path, metavar=("EVENT", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.deliver:
        return deliver(*args.deliver)
    if args.probe:
        return probe(*args.probe)
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    if not BANK.is_file():
        raise SystemExit(f"the bank data is not at {BANK}: clone beside shared/ or set MODEL_TRAINING_SHARED_DATA")
    with launched() as launcher:  # first, while this process is small
        args.workdir.mkdir(parents=True, exist_ok=True)
        src = build_input(args.copies, args.workdir)
        size = src.stat().st_size
        work = fresh(args.workdir / f"scale-x{args.copies}")
        print(
            f"x{args.copies}: {src} ({size / 1e6:.0f} MB), {dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs", flush=True
        )
        rows_a: list[RowA] = []
        same: bool | None = None
        rows_b: list[RowB] = []
        started = time.perf_counter()
        if not args.skip_split:
            print("\n(a) the split", flush=True)
            rows_a, same = part_a(launcher, src, args.copies, args.lambda_memory_mb, work)
            print(f"  part (a): {time.perf_counter() - started:.0f} s in all", flush=True)
        started = time.perf_counter()
        if not args.skip_training:
            print("\n(b) local training", flush=True)
            rows_b = part_b(launcher, src, work, workers)
            print(f"  part (b): {time.perf_counter() - started:.0f} s in all", flush=True)
        print_tables(size, rows_a, same, rows_b)
        hwm = re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text())
        hosted = f"; this process (hosting moto's server) peaked at {int(hwm.group(1)) // 1024} MB" if hwm else ""
        print(f"\nlogs and outputs: {work}{hosted}")
    if same is False:
        raise SystemExit("the processing job's command did not write what the function wrote")
    failed = [str(count) for count, _, training in rows_b if training["status"] != "Completed"]
    if failed:
        raise SystemExit(f"the training job of {', '.join(failed)} worker(s) failed: see its log above")


if __name__ == "__main__":
    main()
