"""Split benchmark: ours against the original stage's pandas algorithm, a polars equivalent and the I/O
floor (``cat FILE > /dev/null``), on the bank data replicated to a chosen size, in one run; then ours in
memory and streaming on a larger copy, and streaming on 20 million narrow rows (the memory bound in rows).

    python benchmarks/split_bench.py --copies 50 --stream-copies 200 --runs 3      (part of: make bench)

Each contender runs in its own process; the table gives the median wall time over ``--runs``, the
throughput, the peak resident memory of that process (its own ``VmHWM``) and each one's time as a
multiple of ours.  The outputs are compared (the same bytes for pandas and ours, the same rows for polars),
so nothing wins by doing less.  Ours includes the numeric validation of every value.  Issue 16's split
targets are printed as met or not (:func:`targets.check`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from targets import check

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
from model_training.config.run import build_config
from model_training.output.layout import OutputLayout
from model_training.config.run import StreamOptions
from model_training.wiring import run_local
src, out = sys.argv[1], sys.argv[2]
stream = StreamOptions(above_bytes=0) if len(sys.argv) > 3 and sys.argv[3] == "stream" else StreamOptions(above_bytes=None)
run_local(Path(src), build_config(run_date=dt.date(2026, 1, 1)), OutputLayout(Path(out)), train=False, stream=stream)
"""


def assemble(out: Path) -> None:
    """Put our run's split files where the comparison looks (``train.csv`` ...): the channels' part files
    concatenated in key order (outside the timed run)."""
    run = next(out.rglob("run.json")).parent
    for name in ("train", "validation", "test"):
        with (out / f"{name}.csv").open("wb") as fh:
            for part in sorted((run / name).glob("part-*")):
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


#: Appended to every Python contender: its own peak RSS.  ``ru_maxrss`` of a child counts the memory of the
#: parent it was spawned from (Linux carries the pre-exec high-water mark over), which the comparisons
#: here inflate; ``VmHWM`` is the high-water mark of the process's own address space.
PEAK = """
import re as _re, sys as _sys
_sys.stderr.write("VmHWM %s\\n" % _re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
"""


def measure(argv: list[str], out: Path | None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes; 0 when unknown) of one run of ``argv`` in a child process."""
    if out is not None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
    if argv[:2] == [sys.executable, "-c"]:
        argv = [argv[0], "-c", argv[2] + PEAK, *argv[3:]]
    started = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed with status {proc.returncode}: {proc.stderr[-2000:]}")
    found = re.search(r"VmHWM (\d+)", proc.stderr)
    return elapsed, int(found.group(1)) * 1024 if found else 0


def digests(out: Path) -> dict[str, str]:
    result = {}
    for name in ("train", "validation", "test"):
        digest = hashlib.sha256()
        with (out / f"{name}.csv").open("rb") as fh:
            while chunk := fh.read(1 << 24):
                digest.update(chunk)
        result[name] = digest.hexdigest()
    return result


def row_set(path: Path, skip_header: bool) -> tuple[int, int]:
    """An order-independent digest of a file's rows (the test file's index column left out): the count
    and the sum of each row's hash modulo 2**64, computed line by line (no file held in memory)."""
    count = total = 0
    with path.open("rb") as fh:
        if skip_header:
            fh.readline()
        for line in fh:
            row = line.rstrip(b"\r\n")
            if skip_header:
                row = row.split(b",", 1)[1]
            total = (total + int.from_bytes(hashlib.blake2b(row, digest_size=8).digest(), "big")) % 2**64
            count += 1
    return count, total


def run_table(
    title: str, src: Path, contenders: dict[str, list[str] | None], runs: int, workdir: Path, reference: str
) -> tuple[dict[str, tuple[float, int]], dict[str, Path]]:
    """Run each contender ``runs`` times on ``src``; print the table (median seconds, MB/s, peak RSS, x
    input, time / reference) and return the figures and output folders."""
    size = src.stat().st_size
    results: dict[str, tuple[float, int]] = {}
    outputs: dict[str, Path] = {}
    for name, argv in contenders.items():
        if argv is None:
            continue
        out = workdir / name.replace(" ", "-").replace("(", "").replace(")", "") if "cat" not in name else None
        measured = [measure(argv[:2] + argv[2:3] + [str(src)] + ([str(out)] if out else []) + argv[3:], out) for _ in range(runs)]
        results[name] = (statistics.median(r[0] for r in measured), max(r[1] for r in measured))
        if out:
            outputs[name] = out
            if name.startswith("ours"):
                assemble(out)
        print(
            f"  {name}: {[round(r[0], 2) for r in measured]} s, peak RSS {max(r[1] for r in measured) / 2**20:.0f} MB", flush=True
        )
    ref = results[reference][0]
    print(f"\n{title}: {src.name} ({size / 1e6:.0f} MB), median of {runs} runs\n")
    print(f"{'contender':<30} {'seconds':>9} {'MB/s':>8} {'peak RSS MB':>12} {'x input':>8} {'time / ours':>12}")
    for name, (seconds, rss) in results.items():
        peak = f"{rss / 2**20:>12.0f} {rss / size:>8.2f}" if rss else f"{'-':>12} {'-':>8}"
        print(f"{name:<30} {seconds:>9.2f} {size / 1e6 / seconds:>8.0f} {peak} {seconds / ref:>12.2f}")
    return results, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50, help="replicate the bank data this many times (50: 484 MB)")
    parser.add_argument("--stream-copies", type=int, default=200, help="the larger input for the streaming mode (0: none)")
    parser.add_argument("--narrow-rows", type=int, default=20_000_000, help="rows of a narrow file streamed once (0: none)")
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
    py = [sys.executable, "-c"]
    contenders: dict[str, list[str] | None] = {
        "cat > /dev/null (I/O floor)": ["sh", "-c", f"cat '{src}' > /dev/null", "sh"],
        "original (pandas)": [*py, PANDAS] if "pandas" not in skip else None,
        "polars": [*py, POLARS] if "polars" not in skip else None,
        "ours (in memory)": [*py, OURS],
        "ours (streaming)": [*py, OURS, "stream"],
    }
    if contenders["polars"] is not None:
        try:
            import polars  # noqa: F401
        except ImportError:
            contenders["polars"] = None
            print("polars is not installed (pip install polars): skipped")
    results, outputs = run_table("in memory and streaming", src, contenders, args.runs, args.workdir, "ours (in memory)")
    ours, streaming = "ours (in memory)", "ours (streaming)"
    print("\ntargets (issue 16; ratios from this run):")
    if "original (pandas)" in outputs:
        same = digests(outputs["original (pandas)"]) == digests(outputs[ours])
        check("split", f"ours byte-identical to the original's train/validation/test on x{args.copies}", "identical", same)
        ratio = results["original (pandas)"][0] / results[ours][0]
        check("split", f"in memory {ratio:.1f}x faster than the original on x{args.copies}", "at least 25x", ratio >= 25)
    if "polars" in outputs:
        same_rows = all(
            row_set(outputs["polars"] / f"{n}.csv", n == "test") == row_set(outputs[ours] / f"{n}.csv", n == "test")
            for n in ("train", "validation", "test")
        )
        check("split", f"the same rows in the same splits as polars on x{args.copies}", "identical", same_rows)
        ratio = results["polars"][0] / results[ours][0]
        check("split", f"in memory {ratio:.1f}x faster than polars on x{args.copies}", "at least 5x", ratio >= 5)
    check(
        "split",
        f"in-memory peak RSS {results[ours][1] / 2**20:.0f} MB, {results[ours][1] / size:.2f}x the input on x{args.copies}",
        "at most 2x",
        results[ours][1] <= 2 * size,
    )
    check_streaming(results, outputs, args.copies, size)
    if args.stream_copies:
        big = build_input(args.stream_copies, args.workdir)
        big_size = big.stat().st_size
        big_results, big_outputs = run_table(
            f"in memory and streaming, x{args.stream_copies}",
            big,
            {
                "cat > /dev/null (I/O floor)": ["sh", "-c", f"cat '{big}' > /dev/null", "sh"],
                ours: [*py, OURS],
                streaming: [*py, OURS, "stream"],
            },
            args.runs,
            args.workdir,
            ours,
        )
        print()
        check_streaming(big_results, big_outputs, args.stream_copies, big_size)
    if args.narrow_rows:
        narrow = build_narrow(args.narrow_rows, args.workdir)
        seconds, rss = measure([*py, OURS, str(narrow), str(args.workdir / "narrow"), "stream"], args.workdir / "narrow")
        check(
            "split",
            f"streaming peak RSS {rss / 2**20:.0f} MB on {args.narrow_rows / 1e6:.0f} M narrow rows "
            f"({narrow.stat().st_size / 1e6:.0f} MB, {seconds:.1f} s)",
            "under 400 MB",
            rss < 400 * 2**20,
        )


def check_streaming(results: dict[str, tuple[float, int]], outputs: dict[str, Path], copies: int, size: int) -> None:
    """The streaming targets on one input: the same bytes as in memory, at least 70% of its throughput
    (in-memory seconds / streaming seconds), peak RSS under 400 MB."""
    ours, streaming = "ours (in memory)", "ours (streaming)"
    same = digests(outputs[streaming]) == digests(outputs[ours])
    check("split", f"streaming byte-identical to in memory on x{copies}", "identical", same)
    share = results[ours][0] / results[streaming][0]
    check(
        "split",
        f"streaming {size / 1e6 / results[streaming][0]:.0f} MB/s vs in memory {size / 1e6 / results[ours][0]:.0f} MB/s "
        f"on x{copies}: {share:.0%}",
        "at least 70%",
        share >= 0.7,
    )
    rss = results[streaming][1]
    check("split", f"streaming peak RSS {rss / 2**20:.0f} MB on x{copies}", "under 400 MB", rss < 400 * 2**20)


def build_narrow(rows: int, folder: Path) -> Path:
    """A CSV of ``rows`` narrow rows (``y_yes``, 0 or 1, and one digit: 4 bytes a row), the shape that
    holds the most rows per byte, for the streaming memory bound in rows."""
    path = folder / f"narrow-{rows}.csv"
    if path.exists():
        return path
    block = b"".join(b"%d,%d\n" % (i % 2, i % 10) for i in range(100_000))
    with path.open("wb") as fh:
        fh.write(b"y_yes,x\n")
        for _ in range(rows // 100_000):
            fh.write(block)
    return path


if __name__ == "__main__":
    main()
