"""Local run benchmark: ``model-training run`` on the bank data with the local backend and the default settings,
against a plain pandas + ``xgboost.train`` script with the same settings, each a whole command in a child process
(interpreter start included), interleaved, in one run.

    python benchmarks/run_bench.py                 (part of: make bench; --runs 5)
    python benchmarks/run_bench.py --threads 1     (both with OMP_NUM_THREADS=1: steadier on a busy machine)

The plain script is what the original stage's training amounts to, without SageMaker: ``pandas.read_csv``, the
original's seeded shuffle (``DataFrame.sample(frac=1, random_state=seed)``) cut 70/20/10, ``y_no`` dropped,
``xgboost.train`` on ``DMatrix`` es of the frames with the train and validation sets evaluated each round, then the
model file and the metrics written.  Its seed, fractions, hyperparameters and ``num_round`` are read from our
configuration (``model_training.config``), parsed as our local training parses them, so they cannot drift.  Ours
does more (validates every value, writes the three split files and ``run.json``, reads the channels back as the
container reads them, keeps a job record, draws the learning curve); the target is that it costs at most half
again as much.  Both print the same validation metrics (the same rows, the same model settings).

On a machine other work keeps busy, XGBoost's two OpenMP threads make both commands' training time swing by a
factor of 5 from run to run (a thread waiting at each round's barrier for one that is descheduled); ``--threads 1``
gives both one thread and steady figures.  The target's ratio is taken with the default (threads unset).

The table gives each command's median, min and max wall seconds over ``--runs``; ours is broken down from one more
run under ``python -X importtime`` (seconds importing, XGBoost and matplotlib among them).  Issue 16's local-run
targets are printed as met or not (:func:`targets.check`): the ratio of the medians, and that a local run imports
neither scikit-learn nor pandas (XGBoost would pull both in: ``model_training.training.xgboost_import``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from targets import check

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
BANK = Path(os.environ.get("MODEL_TRAINING_SHARED_DATA", REPO.parent / "shared" / "data")) / "bank-preprocessed.csv"

PLAIN = """
import json, sys
import pandas as pd
import xgboost as xgb
src, out, params, num_round, seed, fractions = sys.argv[1:]
params, num_round, seed = json.loads(params), int(num_round), int(seed)
train_f, validation_f = (float(f) for f in fractions.split(",")[:2])
df = pd.read_csv(src)
s = df.sample(frac=1, random_state=seed)
n = len(df)
a, b = int(train_f * n), int((train_f + validation_f) * n)
features = [c for c in df.columns if c not in ("y_no", "y_yes")]
train, validation = s.iloc[:a], s.iloc[a:b]
dtrain = xgb.DMatrix(train[features], label=train["y_yes"])
dvalidation = xgb.DMatrix(validation[features], label=validation["y_yes"])
history = {}
booster = xgb.train(params, dtrain, num_boost_round=num_round, evals=[(dtrain, "train"), (dvalidation, "validation")],
                    evals_result=history, verbose_eval=False)
booster.save_model(out + "/xgboost-model.json")
final = {f"{d}:{m}": v[-1] for d, ms in history.items() for m, v in ms.items()}
with open(out + "/metrics.json", "w") as fh:
    json.dump({"final": final, "history": history}, fh)
"""

#: Ours in a child that then says which optional libraries it imported (on stderr).
IMPORTED = """
import runpy, sys
source, out = sys.argv[1:]
sys.argv = ["model-training", "run", source, "--output", out, "-q"]
try:
    runpy.run_module("model_training.cli", run_name="__main__")
finally:
    print("IMPORTED " + ",".join(m for m in ("sklearn", "pandas", "scipy.stats") if m in sys.modules), file=sys.stderr)
"""


def plain_settings() -> list[str]:
    """The plain script's arguments after ``src out``: xgboost params (JSON), num_round, seed, fractions; from our
    defaults, parsed as our local training parses them (local_training.train_model)."""
    from model_training.algorithm.hyperparameters import parse_hyperparameters
    from model_training.algorithm.images import DEFAULT_IMAGE_VERSION
    from model_training.config.run import DEFAULT_HYPERPARAMETERS
    from model_training.config.split import DEFAULT_FRACTIONS, DEFAULT_SEED

    hp = parse_hyperparameters(dict(DEFAULT_HYPERPARAMETERS), DEFAULT_IMAGE_VERSION)
    params: dict[str, Any] = {k: v for k, v in hp.params.items() if k != "eval_metric"}
    if hp.eval_metrics:
        params["eval_metric"] = list(hp.eval_metrics)
    return [json.dumps(params), str(hp.num_round), str(DEFAULT_SEED), ",".join(str(f) for f in DEFAULT_FRACTIONS)]


def child_env(threads: int | None, src: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def timed(argv: list[str], env: dict[str, str], out: Path) -> tuple[float, str]:
    """Wall seconds of ``argv`` in a child process (``out`` emptied first), and its stderr."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed with status {proc.returncode}: {proc.stderr[-2000:]}")
    return elapsed, proc.stderr


def final_metrics(out: Path) -> dict[str, float]:
    return json.loads(next(out.rglob("metrics.json")).read_text(encoding="utf-8"))["final"]


def import_breakdown(stderr: str) -> dict[str, float]:
    """Seconds importing (every top-level import), and of that XGBoost's and matplotlib's, from ``-X importtime``."""
    total = xgboost = matplotlib = 0.0
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith("  ") or not cumulative.strip().isdigit():
            continue  # imported by another module, counted in it
        seconds = int(cumulative) / 1e6
        total += seconds
        module = name.strip()
        xgboost += seconds if module.split(".")[0] == "xgboost" else 0.0
        matplotlib += seconds if module.split(".")[0] == "matplotlib" else 0.0
    return {"imports": total, "xgboost": xgboost, "matplotlib": matplotlib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command, interleaved (default 5)")
    parser.add_argument("--source", type=Path, default=BANK, help="the CSV (default: the bank data)")
    parser.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for both (default: unset)")
    parser.add_argument("--src", type=Path, default=REPO / "src", help="our sources (default: this checkout's src)")
    args = parser.parse_args()
    if not args.source.exists():
        raise SystemExit(f"{args.source} not found: set MODEL_TRAINING_SHARED_DATA to the folder of the bank data")
    env = child_env(args.threads, args.src)
    py = sys.executable
    settings = plain_settings()
    with tempfile.TemporaryDirectory(prefix="run-bench-") as tmp:
        folder = Path(tmp)
        ours_argv = [py, "-m", "model_training.cli", "run", str(args.source), "--output", str(folder / "ours"), "-q"]
        plain_argv = [py, "-c", PLAIN, str(args.source), str(folder / "plain"), *settings]
        times: dict[str, list[float]] = {"ours": [], "plain": []}
        for i in range(args.runs):  # interleaved, each first in turn
            order = [("ours", ours_argv, "ours"), ("plain", plain_argv, "plain")]
            for name, argv, out in order if i % 2 == 0 else order[::-1]:
                seconds, _ = timed(argv, env, folder / out)
                times[name].append(seconds)
                print(f"  run {i + 1}/{args.runs} {name}: {seconds:.2f} s", flush=True)
        ours_metrics, plain_metrics = final_metrics(folder / "ours"), final_metrics(folder / "plain")
        importtime_s, importtime = timed([py, "-X", "importtime", *ours_argv[1:]], env, folder / "ours")
        _, imported = timed([py, "-c", IMPORTED, str(args.source), str(folder / "ours")], env, folder / "ours")
    a, b = statistics.median(times["ours"]), statistics.median(times["plain"])
    print(f"\nlocal run of {args.source.name}, {args.runs} runs each, interleaved"
          f"{f', OMP_NUM_THREADS={args.threads}' if args.threads else ''}: wall seconds of the whole command\n")  # fmt: skip
    print("| command | median | min | max | time / plain |")
    print("|---|---|---|---|---|")
    for name, label in (("ours", "`model-training run` (local backend)"), ("plain", "pandas + `xgboost.train`")):
        m = statistics.median(times[name])
        print(f"| {label} | {m:.2f} | {min(times[name]):.2f} | {max(times[name]):.2f} | {m / b:.2f} |")
    parts = import_breakdown(importtime)
    print(
        f"\nours under -X importtime ({importtime_s:.2f} s): {parts['imports']:.2f} s importing, of which XGBoost "
        f"{parts['xgboost']:.2f} s and matplotlib {parts['matplotlib']:.2f} s"
    )
    shown = sorted(set(ours_metrics) | set(plain_metrics))
    print("final metrics, ours / plain: " + ", ".join(f"{k} {ours_metrics.get(k, float('nan')):.5f} / "
                                                      f"{plain_metrics.get(k, float('nan')):.5f}" for k in shown))  # fmt: skip
    line = next((x for x in imported.splitlines() if x.startswith("IMPORTED ")), "IMPORTED ?")
    loaded = [m for m in line[len("IMPORTED ") :].split(",") if m]
    check("local run", f"ours {a:.2f} s vs pandas + xgboost.train {b:.2f} s: {a / b:.2f}x", "at most 1.5x", a <= 1.5 * b)
    check(
        "local run",
        f"a local run imports {', '.join(loaded) if loaded else 'neither scikit-learn nor pandas'}",
        "no scikit-learn, pandas or scipy.stats",
        not loaded,
    )


if __name__ == "__main__":
    main()
