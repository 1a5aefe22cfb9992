"""Local hyperparameter tuning benchmark: a search of 20 trials (and the untuned configuration, trial 000) on the
bank data and on scikit-learn's breast cancer data, through the stage's own local path (split, channels, the
local tuning job with Optuna and XGBoost, the best model copied), in one run.

    python benchmarks/tuning_bench.py                      (20 trials, one at a time, Bayesian)
    python benchmarks/tuning_bench.py --parallel 2 --trials 20 --strategy Random

For each dataset it prints the best trial's validation metric against the untuned configuration's (the stage's
default hyperparameters: trial 000), the search's wall time (the tuning job's creation to its end), the whole
run's (reading and splitting included), and trials per minute (trial 000 counted) on this machine's cores.
The bank data is read from ``../shared/data`` (``MODEL_TRAINING_SHARED_DATA``); it is skipped when absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
BANK = Path(os.environ.get("MODEL_TRAINING_SHARED_DATA", REPO.parent / "shared" / "data")) / "bank-preprocessed.csv"

#: The ranges searched: the container's recommended tunables for a gradient-boosted tree of this size.
RANGES: dict[str, Any] = {
    "eta": {"min": 0.01, "max": 0.5, "scaling": "Logarithmic"},
    "max_depth": {"min": 2, "max": 10},
    "min_child_weight": {"min": 1, "max": 10},
    "subsample": {"min": 0.5, "max": 1.0},
    "gamma": {"min": 0, "max": 5},
}


def breast_cancer_csv(folder: Path) -> Path:
    """scikit-learn's breast cancer data (569 rows, 30 features) as a CSV with the label ``target`` last."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    path = folder / "breast_cancer.csv"
    frame.to_csv(path, index=False)
    return path


def search(source: Path, label: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Run the stage on ``source`` with the search; returns the figures."""
    from model_training.config.run import build_config
    from model_training.output.layout import OutputLayout
    from model_training.wiring import run_local

    section = {
        "objective_metric": args.metric,
        "strategy": args.strategy,
        "max_trials": args.trials,
        "max_parallel_trials": args.parallel,
        "seed": args.seed,
        "ranges": RANGES,
    }
    settings: dict[str, Any] = {"label": label, "run_date": dt.date(2026, 3, 4), "tuning": section}
    if label != "y_yes":
        settings["drop"] = ()
    config = build_config(**settings)
    started = time.perf_counter()
    record = run_local(source, config, OutputLayout(out)).record
    wall = time.perf_counter() - started
    tuning = record.tuning
    assert tuning is not None and tuning.best_objective is not None and tuning.start_time and tuning.end_time
    searched = (dt.datetime.fromisoformat(tuning.end_time) - dt.datetime.fromisoformat(tuning.start_time)).total_seconds()
    return {
        "dataset": source.stem,
        "rows": sum(s.rows for s in record.splits.values()),
        "trials": len(tuning.trials),
        "best": tuning.best_objective,
        "untuned": tuning.default_objective,
        "search_s": searched,
        "run_s": wall,
        "per_min": len(tuning.trials) / (searched / 60) if searched else float("nan"),
        "best_hp": tuning.best_hyperparameters,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20, help="the search's trials (max_trials), trial 000 not counted")
    parser.add_argument("--parallel", type=int, default=1, help="max_parallel_trials (locally also at most the cores)")
    parser.add_argument("--strategy", default="Bayesian", help="Bayesian, Random or Hyperband")
    parser.add_argument("--metric", default="validation:auc", help="the objective metric")
    parser.add_argument("--seed", type=int, default=7, help="the search's seed")
    parser.add_argument("--output", type=Path, help="keep the runs' folders here (default: a temporary folder)")
    args = parser.parse_args()

    from model_training.training.local_tuning import cores

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = args.output or Path(tmp)
        datasets = [(breast_cancer_csv(Path(tmp)), "target")]
        if BANK.is_file():
            datasets.insert(0, (BANK, "y_yes"))
        else:
            print(f"skipping the bank data: {BANK} not found", file=sys.stderr)
        for source, label in datasets:
            print(f"searching {source.name} ...", file=sys.stderr, flush=True)
            rows.append(search(source, label, args, base / source.stem))
    print(
        f"\n{args.strategy} search, {args.trials} trials + the untuned one, {args.parallel} at a time, "
        f"{args.metric}, on {cores()} cores\n"
    )
    heading = ("dataset", "rows", "trials", "untuned", "best", "gain", "search s", "run s", "trials/min")
    print("{:<18} {:>6} {:>6} {:>9} {:>9} {:>8} {:>9} {:>7} {:>10}".format(*heading))
    for r in rows:
        gain = r["best"] - r["untuned"] if r["untuned"] is not None else float("nan")
        print(
            f"{r['dataset']:<18} {r['rows']:>6} {r['trials']:>6} {r['untuned']:>9.5f} {r['best']:>9.5f} {gain:>+8.5f} "
            f"{r['search_s']:>9.0f} {r['run_s']:>7.1f} {r['per_min']:>10.1f}"
        )
    for r in rows:
        print(f"{r['dataset']}: best hyperparameters {r['best_hp']}")


if __name__ == "__main__":
    main()
