"""Shared by the study tests: a study file on a tiny mmoe_synthetic, and metrics written as
if a run had trained (to test selection and queueing without training)."""

import json
import os

from tests.conftest import SMALL_BASE


def study_files(root, text, base_text=SMALL_BASE):
    """(study file, study dir) of `text` (its `{base}` filled) on a tiny mmoe_synthetic
    under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    base = root / "base.yaml"
    base.write_text(base_text.format(data_dir=root / "tfds"))
    path = root / "study.yaml"
    path.write_text(text.format(base=base))
    return str(path), str(root / "out")


def write_metrics(run, name, rmse):
    """Writes `name` (metrics.json, evaluation_validation.json) of `run` with every task's
    rmse (a single-task run: its task's) set to `rmse`."""
    os.makedirs(run.run_dir, exist_ok=True)
    tasks = [run.cell] if run.group == "single_task" else ["y1", "y2"]
    with open(os.path.join(run.run_dir, name), "w") as f:
        json.dump({t: {"rmse": rmse, "loss": rmse ** 2} for t in tasks}, f)


def contender(run):
    """(the contender's name as study.json's `tune.contenders` has it, the run's setting)."""
    return ("tuned_equal", run.cell) if run.group == "tuned_equal" else \
        (f"{run.group} {run.cell}", run.setting)
