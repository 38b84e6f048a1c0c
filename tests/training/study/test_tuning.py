"""`tune:` in a study file: every contender (cells, single-task baselines, tuned equal
weighting) trained at the same settings, each selected on validation only; the budget
checked; the selected setting and the seed count on the leaderboard; early stopping tests
the best epoch's weights."""

import json
import os

import pytest

import study
from tests.conftest import SMALL_BASE
from tests.training.study.helpers import contender as _contender, study_files as _files
from tests.training.study.helpers import write_metrics as _write
from training.study import Study
from training.study.leaderboard import collect
from training.study.text import format_leaderboard

TUNED = """\
base: {base}
seeds: 2
grid:
  train.weighting: [equal, uncertainty]
tune:
  grid: {{train.learning_rate: [0.001, 0.003, 0.01]}}
  budget: 3
tuned_equal:
  train.learning_rate: [0.001, 0.003, 0.01]
"""


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The TUNED study planned (nothing trained)."""
    path, out = _files(tmp_path_factory.mktemp("tuned"), TUNED)
    return Study(path, out)


def test_every_contender_gets_the_same_settings_and_seeds(planned):
    by = {}
    for run in planned.runs:
        name = f"{run.group} {run.cell}" if run.group != "tuned_equal" else "tuned_equal"
        by.setdefault(name, set()).add((run.config.train.learning_rate, run.seed))
    assert set(by) == {"single_task y1", "single_task y2", "cell equal", "cell uncertainty",
                       "tuned_equal"}
    want = {(lr, s) for lr in (0.001, 0.003, 0.01) for s in (0, 1)}
    assert all(pairs == want for pairs in by.values()), by
    cell = next(r for r in planned.runs if r.group == "cell" and r.setting == "0.003")
    assert cell.run_dir.endswith(os.path.join("runs", cell.cell, "0.003", f"seed{cell.seed}"))
    assert cell.config.train.weighting == cell.cell  # the setting adds to the cell's overrides


# Validation rmse by (contender, setting): lower is better; each contender's best differs.
VALIDATION = {"single_task y1": {"0.001": 1.0, "0.003": 0.8, "0.01": 0.9},
              "single_task y2": {"0.001": 0.7, "0.003": 0.9, "0.01": 0.8},
              "cell equal": {"0.001": 1.1, "0.003": 1.2, "0.01": 0.6},
              "cell uncertainty": {"0.001": 0.5, "0.003": 1.0, "0.01": 1.0},
              "tuned_equal": {"0.001": 0.9, "0.003": 0.7, "0.01": 0.95}}
CHOSEN = {"single_task y1": "0.003", "single_task y2": "0.001", "cell equal": "0.01",
          "cell uncertainty": "0.001", "tuned_equal": "0.003"}


def _finish(plan, test):
    """Writes every run's metrics as if it had trained: the validation rmse of VALIDATION,
    the test rmse `test(selected)` (whether the setting is its contender's chosen one)."""
    for run in plan.runs:
        name, setting = _contender(run)
        _write(run, "evaluation_validation.json", VALIDATION[name][setting])
        _write(run, "metrics.json", test(CHOSEN[name] == setting))


def _selections(content):
    tune = content["tune"]["contenders"]
    return {name: choice["selected"] for name, choice in tune.items()}


def test_each_contender_is_selected_on_validation_and_never_on_test(planned):
    plan = planned.plan
    _finish(plan, lambda chosen: 2.0 if chosen else 0.01)  # the others look far better on test
    content = collect(plan)
    assert _selections(content) == CHOSEN
    rows = {r["cell"]: r for r in content["leaderboard"]}
    assert rows["equal"]["setting"] == "0.01" and rows["uncertainty"]["setting"] == "0.001"
    assert rows["single_task"]["setting"] == {"y1": "0.003", "y2": "0.001"}
    assert rows["tuned_equal (0.003)"]["setting"] == "0.003"
    # Only the selected runs' test metrics enter the leaderboard.
    assert all(e["mean"] == pytest.approx(2.0) for r in rows.values() for e in r["tasks"].values())
    assert sum(r["selected"] for r in content["runs"]) == 5 * 2  # contenders x seeds
    # The selected setting's test metrics poisoned the other way: nothing moves.
    _finish(plan, lambda chosen: 50.0 if chosen else 2.0)
    assert _selections(collect(plan)) == CHOSEN
    # The check can fail: a non-selected setting made better on validation is selected.
    run = next(r for r in plan.runs if r.group == "cell" and r.cell == "equal"
               and r.setting == "0.001")
    _write(run, "evaluation_validation.json", 0.01)
    assert _selections(collect(plan))["cell equal"] == "0.001"


def test_the_leaderboard_shows_each_cell_s_setting_and_seed_count(planned):
    plan = planned.plan
    _finish(plan, lambda chosen: 2.0)
    run = next(r for r in plan.runs if r.group == "cell" and r.cell == "uncertainty"
               and r.setting == "0.001" and r.seed == 1)
    os.remove(os.path.join(run.run_dir, "metrics.json"))  # one seed not finished
    content = collect(plan)
    rows = {r["cell"]: r for r in content["leaderboard"]}
    assert rows["uncertainty"]["seeds"] == [0] and rows["equal"]["seeds"] == [0, 1]
    assert rows["equal"]["runs"]["planned"] == 6  # the whole budget: 3 settings x 2 seeds
    assert content["tune"]["contenders"]["cell equal"]["seeds"] == {"0.001": 2, "0.003": 2,
                                                                   "0.01": 2}
    text = format_leaderboard(content)
    header = next(line for line in text.splitlines() if line.startswith("cell"))
    assert "setting" in header and " n " in header
    line = {ln.split()[0]: ln for ln in text.splitlines()}
    assert line["equal"].split()[1:3] == ["0.01", "2"]
    assert line["uncertainty"].split()[1:3] == ["0.001", "1"]
    assert "y1 0.003, y2 0.001" in line["single_task"]


@pytest.mark.parametrize("tune, tuned, message", [
    ("{grid: {train.learning_rate: [0.001, 0.003, 0.01]}, budget: 2}", "[0.001, 0.003]",
     "tune.budget: 2 setting(s) per contender, but tune.grid has 3"),
    ("{grid: {train.learning_rate: [0.001, 0.003]}}", "[0.001, 0.003, 0.01]",
     "tuned_equal: 3 setting(s) (its grid), but every contender is tuned with tune.budget = 2"),
    ("{grid: {train.weighting: [equal]}}", "[0.001]",
     "tune.grid: train.weighting is also set by the cell equal"),
    ("{grid: {train.learning_rate: [0.001]}, budget: 0}", "[0.001]",
     "tune.budget: expected a count >= 1"),
    ("{grid: {train.learning_rate: [0.001]}, trials: 3}", "[0.001]",
     "tune: unknown key(s) ['trials']; valid keys: grid, budget, pilot_seeds"),
    ("{grid: {train.learning_rate: [-1.0]}}", "[0.001]",
     "single-task baselines of base setting -1.0: train.learning_rate: must be > 0"),
    ("{grid: {train.learning_rate: [0.001]}, pilot_seeds: 3}", "[0.001]",
     "tune.pilot_seeds: 3, but the pilot must leave seeds to train the selected setting on "
     "(the study has 3); valid: 1 to 2"),
    ("{grid: {train.learning_rate: [0.001]}, pilot_seeds: 0}", "[0.001]",
     "tune.pilot_seeds: expected a count of seeds, got 0; valid: 1 to the study's seed count "
     "minus 1"),
    ("{grid: {train.learning_rate: [0.001]}, pilot_seeds: true}", "[0.001]",
     "tune.pilot_seeds: expected a count of seeds, got True"),
])
def test_a_budget_that_cannot_be_met_is_a_study_file_error(tmp_path, capsys, tune, tuned,
                                                           message):
    text = ("base: {base}\ngrid: {{train.weighting: [equal]}}\n"
            f"tune: {tune.replace('{', '{{').replace('}', '}}')}\n"
            f"tuned_equal: {{{{train.learning_rate: {tuned}}}}}\n")
    path, out = _files(tmp_path, text)
    assert study.main(["--config", path, "--output", out, "--plan"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: ") and message in err, err


ONE_GRAPH = """\
base: {base}
seeds: 2
grid:
  train.weighting: [equal]
single_task: false
one_graph: true
tune:
  grid: {{train.learning_rate: [0.003, 0.03]}}
"""


def test_a_tuned_study_trains_each_setting_s_seeds_in_one_graph_and_resumes(tmp_path, capsys):
    quiet = "epochs: 1\n  diagnostics_per_epoch: 0\n  affinity_per_epoch: 0\n  gate_diagnostics: false"
    path, out = _files(tmp_path, ONE_GRAPH, SMALL_BASE.replace("epochs: 2", quiet))
    assert study.main(["--config", path, "--output", out, "--jobs", "0"]) == 0
    printed = capsys.readouterr().out
    assert "one_graph: cell equal setting 0.003: 2 seeds in one graph" in printed
    assert "one_graph: cell equal setting 0.03: 2 seeds in one graph" in printed
    assert "2 tuned settings per contender" in printed
    content = json.load(open(os.path.join(out, "study.json")))
    row = content["leaderboard"][0]
    assert row["setting"] in ("0.003", "0.03") and row["seeds"] == [0, 1]
    assert all(os.path.exists(os.path.join(out, "runs", "equal", s, f"seed{k}", "metrics.json"))
               for s in ("0.003", "0.03") for k in (0, 1))
    os.remove(os.path.join(out, "runs", "equal", "0.03", "seed1", "metrics.json"))
    assert study.main(["--config", path, "--output", out, "--jobs", "0"]) == 0
    assert "3 done, 1 to run" in capsys.readouterr().out


def test_early_stopping_tests_the_best_epoch_and_a_resumed_run_trains_no_further(tmp_path):
    from training.config import load_config
    from training.experiment import Experiment

    path, _ = _files(tmp_path, "base: {base}\n")
    config = load_config(os.path.join(tmp_path, "base.yaml"),
                         ["train.epochs=6", "train.early_stopping_patience=1",
                          "train.learning_rate=0.05"])
    experiment = Experiment(config)
    original = experiment.train_fn

    def shifted(*args, **kwargs):  # after the first epoch, labels far off: validation worsens
        fn = original(*args, **kwargs)

        def batches(epoch):
            ds = fn(epoch)
            return ds if epoch == 0 else ds.map(
                lambda x, y, m: (x, {k: v + 1000.0 for k, v in y.items()}, m))
        batches.epoch_logs = fn.epoch_logs
        return batches

    experiment.train_fn = shifted
    run = str(tmp_path / "run")
    experiment.train(run, verbose=0)
    history = json.load(open(os.path.join(run, "history.json")))
    assert len(history) == 2  # epoch 2 worse, patience 1: stopped
    validation = json.load(open(os.path.join(run, "evaluation_validation.json")))
    for task in ("y1", "y2"):  # the test model is epoch 1's, not the last epoch's
        assert validation[task]["rmse"] == pytest.approx(history[0]["validation"][task]["rmse"],
                                                         rel=1e-4)
        assert validation[task]["rmse"] != pytest.approx(history[1]["validation"][task]["rmse"],
                                                         rel=1e-2)
    test = json.load(open(os.path.join(run, "metrics.json")))
    os.remove(os.path.join(run, "metrics.json"))  # killed after stopping, before testing
    Experiment(config).train(run, resume=True, verbose=0)
    assert len(json.load(open(os.path.join(run, "history.json")))) == 2
    again = json.load(open(os.path.join(run, "metrics.json")))
    assert again["y1"]["rmse"] == pytest.approx(test["y1"]["rmse"], rel=1e-5)
