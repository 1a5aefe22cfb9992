"""A hyperparameter search drawn: the objective of each trial against the trial, the best so far as a step line,
the best trial and the untuned configuration's trial marked.  A PNG written beside the trials' own learning curves,
under the run folder (:func:`objective_plot_key`)."""

from __future__ import annotations

import io

from model_training.output.runrecord import TuningRecord
from model_training.training.local_tuning_records import trial_number
from model_training.training.tuning_request import TRIALS_FOLDER


def objective_plot_key(run_prefix: str, tuning_job: str) -> str:
    """``{run folder}/tuning/{tuning job}-objective.png``: beside the trials' folders
    (``{run folder}/tuning/{trial}/output/``, where each trial's learning curve is)."""
    return f"{run_prefix}/{TRIALS_FOLDER}/{tuning_job}-objective.png"


def objective_plot_png(tuning: TuningRecord) -> bytes | None:
    """A PNG of the objective metric of every trial with one, in trial order (x: the trial's number, ``003`` of
    ``{tuning job}-003-{8 hex}``, or its position in the list when the names do not say), with the best so far
    (by the search's direction), the best trial (a star) and the untuned configuration's objective (a dashed line,
    when a trial trained it); ``None`` without matplotlib or without a trial that reported the objective.

    Drawn on a :class:`matplotlib.figure.Figure` of its own, not through ``pyplot`` (whose global state is not safe
    to share between threads)."""
    named = [trial_number(tuning.job_name, t.job_name) for t in tuning.trials]
    # names not of the {tuning job}-{NNN}-{8 hex} shape: positions instead
    numbers = [n for n in named if n is not None] if None not in named else list(range(1, len(tuning.trials) + 1))
    points = [(n, t.objective, t) for n, t in zip(numbers, tuning.trials, strict=True) if t.objective is not None]
    if not points:
        return None
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return None
    maximize = tuning.objective_type == "Maximize"
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    completed = [(x, y) for x, y, t in points if t.status == "Completed"]
    others = [(x, y) for x, y, t in points if t.status != "Completed"]
    if completed:
        ax.scatter(*zip(*completed, strict=True), color="tab:blue", label="trial", zorder=3)
    if others:
        ax.scatter(*zip(*others, strict=True), color="tab:gray", marker="x", label="stopped early", zorder=3)
    best_so_far, running = [], None
    for x, y, t in points:
        if t.status == "Completed" and (running is None or (y > running if maximize else y < running)):
            running = y
        best_so_far.append((x, running))
    steps = [(x, y) for x, y in best_so_far if y is not None]
    if steps:
        ax.step(*zip(*steps, strict=True), where="post", color="tab:green", alpha=0.6, label="best so far")
    best = next(((x, y) for x, y, t in points if t.job_name == tuning.best_training_job), None)
    if best is not None:
        ax.scatter([best[0]], [best[1]], marker="*", s=300, color="tab:red", label=f"best: {best[1]:.5g}", zorder=4)
    if tuning.default_objective is not None:
        ax.axhline(tuning.default_objective, color="tab:orange", linestyle="--", label=f"untuned: {tuning.default_objective:.5g}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(tuning.objective_metric)
    ax.set_title(f"{tuning.job_name}: {tuning.objective_metric} ({tuning.objective_type.lower() or '?'})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
