"""Split benchmark: ours against the original stage's pandas algorithm, a polars equivalent and the I/O
floor (``cat FILE > /dev/null``), on the bank data replicated to a chosen size, in one run.

    python benchmarks/split_bench.py --copies 50 --runs 3      (or: make bench)

Each contender runs in its own process; the table gives the median wall time over ``--runs``, the
throughput, the peak resident memory of that process (``os.wait4``'s rusage) and each one's time as a
multiple of ours.  The outputs are compared (the same bytes for pandas and ours, the same rows for polars),
so nothing wins by doing less.  Ours includes the numeric validation of every value.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BANK = Path(os.environ.get("MODEL_TRAINING_SHARED_DATA", REPO.parent / "shared" / "data")) / "bank-preprocessed.csv"

PANDAS = """
import sys, pandas as pd
src, out = sys.argv[1], sys.argv[2]
df = pd.read_csv(src)
s = df.sample(frac=1, random_state=1729)
n = len(df)
cols = ["y_yes"] + [c for c in df.columns if c not in ("y_no", "y_yes")]
s.iloc[: int(0.7 * n)][cols].to_csv(out + "/train.csv", header=False, index=False)
s.iloc[int(0.7 * n) : int(0.9 * n)][cols].to_csv(out + "/validation.csv", header=False, index=False)
s.iloc[int(0.9 * n) :].to_csv(out + "/test.csv")
"""

POLARS = """
import sys, numpy as np, polars as pl
src, out = sys.argv[1], sys.argv[2]
df = pl.read_csv(src)
n = df.height
order = np.random.RandomState(1729).permutation(n)
s = df[order]
cols = ["y_yes"] + [c for c in df.columns if c not in ("y_no", "y_yes")]
s[: int(0.7 * n)].select(cols).write_csv(out + "/train.csv", include_header=False)
s[int(0.7 * n) : int(0.9 * n)].select(cols).write_csv(out + "/validation.csv", include_header=False)
s[int(0.9 * n) :].with_columns(pl.Series("", order[int(0.9 * n) :])).select([""] + df.columns).write_csv(out + "/test.csv")
"""

OURS = """
import sys, datetime as dt
from pathlib import Path
from model_training.config import build_config
from model_training.pipeline import OutputLayout, run_local
src, out = sys.argv[1], sys.argv[2]
run_local(Path(src), build_config(run_date=dt.date(2026, 1, 1)), OutputLayout(Path(out)), train=False)
"""


def assemble(out: Path) -> None:
    """Put our run's split files where the comparison looks (``train.csv`` ...): the channels' part files
    concatenated in key order (outside the timed run)."""
    run = next(out.rglob("run.json")).parent
    for name in ("train", "validation", "test"):
        with (out / f"{name}.csv").open("wb") as fh:
            for part in sorted((run / name).glob("*.csv")):
                fh.write(part.read_bytes())


def build_input(copies: int, folder: Path) -> Path:
    path = folder / f"bank-x{copies}.csv"
    if path.exists():
        return path
    header, body = BANK.read_bytes().split(b"\n", 1)
    with path.open("wb") as fh:
        fh.write(header + b"\n")
        for _ in range(copies):
            fh.write(body)
    return path


def measure(argv: list[str], out: Path | None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one run of ``argv`` in a child process."""
    if out is not None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{argv[:3]} failed with status {status}")
    return elapsed, usage.ru_maxrss * 1024


def digests(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / f"{name}.csv").read_bytes()).hexdigest() for name in ("train", "validation", "test")}


def sorted_rows(path: Path, skip_header: bool) -> str:
    lines = path.read_text().splitlines()[1 if skip_header else 0 :]
    return hashlib.sha256(
        "\n".join(sorted(line.split(",", 1)[1] if skip_header else line for line in lines)).encode()
    ).hexdigest()


def import_seconds(module: str, runs: int = 7) -> float:
    """Median seconds to import ``module`` in a fresh interpreter, minus a bare interpreter's start."""

    def once(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - started

    bare = statistics.median(once("pass") for _ in range(runs))
    return statistics.median(once(f"import {module}") for _ in range(runs)) - bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50, help="replicate the bank data this many times (50: 484 MB)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "model-training-bench")
    parser.add_argument("--skip", default="", help="comma list of contenders to leave out: pandas,polars")
    args = parser.parse_args()
    if not BANK.is_file():
        raise SystemExit(f"the bank data is not at {BANK}: clone beside shared/ or set MODEL_TRAINING_SHARED_DATA")
    args.workdir.mkdir(parents=True, exist_ok=True)
    src = build_input(args.copies, args.workdir)
    size = src.stat().st_size
    skip = set(filter(None, args.skip.split(",")))
    contenders: dict[str, list[str] | None] = {
        "cat > /dev/null (I/O floor)": ["sh", "-c", f"cat '{src}' > /dev/null"],
        "original (pandas)": [sys.executable, "-c", PANDAS, str(src)] if "pandas" not in skip else None,
        "polars": [sys.executable, "-c", POLARS, str(src)] if "polars" not in skip else None,
        "ours (model-training)": [sys.executable, "-c", OURS, str(src)],
    }
    if contenders["polars"] is not None:
        try:
            import polars  # noqa: F401
        except ImportError:
            contenders["polars"] = None
            print("polars is not installed (pip install polars): skipped")
    results: dict[str, tuple[float, int]] = {}
    outputs: dict[str, Path] = {}
    for name, argv in contenders.items():
        if argv is None:
            continue
        out = args.workdir / name.split()[0].strip("(") if "cat" not in name else None
        runs = [measure(argv + ([str(out)] if out else []), out) for _ in range(args.runs)]
        results[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
        if out:
            outputs[name] = out
            if name.startswith("ours"):
                assemble(out)
        print(f"  {name}: {[round(r[0], 2) for r in runs]} s", flush=True)
    ours = results["ours (model-training)"][0]
    print(f"\ninput: {src} ({size / 1e6:.0f} MB, {args.copies} copies of the bank data), median of {args.runs} runs\n")
    print(f"{'contender':<30} {'seconds':>9} {'MB/s':>8} {'peak RSS MB':>12} {'x input':>8} {'time / ours':>12}")
    for name, (seconds, rss) in results.items():
        mbps, ratio = size / 1e6 / seconds, seconds / ours
        print(f"{name:<30} {seconds:>9.2f} {mbps:>8.0f} {rss / 2**20:>12.0f} {rss / size:>8.2f} {ratio:>12.2f}")
    if "original (pandas)" in outputs:
        same = digests(outputs["original (pandas)"]) == digests(outputs["ours (model-training)"])
        print(f"\nours vs original: byte-identical train/validation/test: {same}")
        if not same:
            raise SystemExit("outputs differ from the original algorithm's")
    if "polars" in outputs:
        same_rows = all(
            sorted_rows(outputs["polars"] / f"{n}.csv", n == "test")
            == sorted_rows(outputs["ours (model-training)"] / f"{n}.csv", n == "test")
            for n in ("train", "validation", "test")
        )
        print(f"ours vs polars: the same rows in the same splits: {same_rows}")
    boto3_s, ours_s = import_seconds("boto3"), import_seconds("model_training")
    ms = f"import model_training {ours_s * 1000:.0f} ms, import boto3 {boto3_s * 1000:.0f} ms"
    print(f"cold start: {ms} (ratio {ours_s / boto3_s:.2f})")
    handler_s = import_seconds("model_training.handler")  # what the first invocation adds: Powertools, pyarrow, numpy
    print(f"first invocation: import model_training.handler {handler_s * 1000:.0f} ms (ratio to boto3 {handler_s / boto3_s:.2f})")


if __name__ == "__main__":
    main()
