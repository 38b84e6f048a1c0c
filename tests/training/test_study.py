"""study.py: grid x seeds with shared single-task baselines and a tuned equal weighting,
statistics over seeds, resuming, and bad study files."""

import json
import os
import subprocess
import sys

import pytest

import study
from tests.helpers import REPO


def test_a_study_writes_every_run_and_a_leaderboard_with_intervals(small_study, capsys):
    path, out, code = small_study
    assert code == 0
    content = json.load(open(os.path.join(out, "study.json")))
    assert content["seeds"] == [0, 1] and content["tasks"] == ["y1", "y2"]
    groups = [(r["group"], r["cell"]) for r in content["runs"]]
    # Single-task baselines once per seed and task, shared by both cells.
    assert groups.count(("single_task", "y1")) == 2 and groups.count(("cell", "mmoe-equal")) == 2
    assert all(r["status"] == "done" for r in content["runs"])
    for r in content["runs"]:
        assert r["wall_time_s"] > 0 and r["step_time_ms"] > 0 and r["peak_memory_mb"] > 0
        assert os.path.exists(os.path.join(out, r["run_dir"], "best.keras"))
    rows = {r["cell"]: r for r in content["leaderboard"]}
    tuned = content["tuned_equal"]
    assert tuned["selected"] in ("0.01", "0.03") and set(tuned["scores"]) == {"0.01", "0.03"}
    cell = rows["mmoe-equal"]
    rmse = cell["tasks"]["y1"]
    assert rmse["metric"] == "rmse" and rmse["n"] == 2 and rmse["ci_low"] <= rmse["mean"] <= rmse["ci_high"]
    assert rmse["vs_single_task"]["n"] == 2 and rmse["vs_tuned_equal"]["n"] == 2
    assert cell["delta_m"]["n"] == 2 and set(cell["delta_m"]["by_seed"]) == {"0", "1"}
    assert "delta_m_vs_tuned_equal" in cell
    # The per-seed Δm is the single-run formula on that seed's runs.
    from training.baselines import delta_m
    seed0 = {r["cell"]: r for r in content["runs"] if r["seed"] == 0}
    single = {t: next(r["test"][t] for r in content["runs"] if r["group"] == "single_task"
                      and r["cell"] == t and r["seed"] == 0) for t in ("y1", "y2")}
    from tasks import Task
    tasks = [Task("y1", "regression"), Task("y2", "regression")]
    want = delta_m(seed0["mmoe-equal"]["test"], single, tasks)["delta_m"]
    assert cell["delta_m"]["by_seed"]["0"] == pytest.approx(want)


def test_a_study_resumes_and_skips_finished_runs(small_study, capsys):
    path, out, _ = small_study
    run = os.path.join(out, "runs", "shared_bottom-equal", "seed1")
    os.remove(os.path.join(run, "metrics.json"))  # as if killed after its last epoch
    assert study.main(["--config", path, "--output", out, "--jobs", "0"]) == 0
    printed = capsys.readouterr().out
    assert "12 runs" in printed and "11 done, 1 to run" in printed
    assert "[1/1] cell shared_bottom-equal seed 1: done" in printed
    assert "Marks after a value" in printed and "Tuned equal weighting: selected" in printed
    assert os.path.exists(os.path.join(run, "metrics.json"))


def test_a_changed_study_does_not_overwrite_old_runs(small_study, tmp_path, capsys):
    path, out, _ = small_study
    assert study.main(["--config", path, "--output", out, "--jobs", "0",
                       "--set", "train.epochs=3"]) == 2
    assert "holds a run of another config" in capsys.readouterr().err


@pytest.mark.parametrize("text, message", [
    ("base: configs/tiny.yaml\ngrid: {model.architecture: [nope]}\n",
     "cell nope: model.architecture: unknown architecture 'nope'"),
    ("base: configs/tiny.yaml\nseeds: 0\n", "seeds: expected a count >= 1"),
    ("base: configs/tiny.yaml\ngrids: {}\n", "unknown key(s) ['grids']; valid keys: name, base"),
    ("base: configs/tiny.yaml\ngrid: {train.epochs: [two]}\n",
     "train.epochs: expected an integer, got 'two'"),
    ("base: configs/tiny.yaml\ngrid: [1\n", "line 3, column 1: invalid YAML"),
    ("base: configs/tiny.yaml\ngrid: {model.architecture: [mmoe], model.args: [{num_experts: 0}]}\n",
     "cell mmoe-num_experts0: model.args.num_experts: 0 is out of range; valid: an integer 1 to "
     "10000000"),
    ("base: configs/tiny.yaml\ngrid: {train.weighting: [equal, cagrad], train.weighting_args: "
     "[{c: -1}]}\n", "cell equal-c-1: train.weighting_args.c: unknown argument of method 'equal'"),
    ("base: configs/tiny.yaml\ngrid: {train.monitor: [val_left_accuracy, val_nope_auc]}\n",
     "cell val_nope_auc: train.monitor: unknown metric 'val_nope_auc'"),
    ("base: configs/tiny.yaml\nsingle_task: maybe\n", "single_task: expected true or false"),
])
def test_bad_study_files_are_config_errors(tmp_path, capsys, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert study.main(["--config", str(path), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: ") and message in err, err


@pytest.mark.slow
def test_runs_as_train_py_subprocesses_with_their_own_peak_memory(small_study, tmp_path):
    path, out, _ = small_study
    text = open(path).read().replace("seeds: 2", "seeds: [5]").split("tuned_equal")[0]
    one = tmp_path / "one.yaml"
    one.write_text(text + "single_task: false\n")
    result = subprocess.run([sys.executable, "study.py", "--config", str(one), "--output",
                             str(tmp_path / "out"), "--jobs", "2"], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    content = json.load(open(tmp_path / "out" / "study.json"))
    assert [r["status"] for r in content["runs"]] == ["done", "done"]
    assert all(r["peak_memory_mb"] > 100 for r in content["runs"])
    assert os.path.exists(tmp_path / "out" / "runs" / "mmoe-equal" / "seed5" / "train.log")
