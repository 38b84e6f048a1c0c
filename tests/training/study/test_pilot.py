"""`tune.pilot_seeds`: every contender trains every setting on the pilot seeds only, is
selected on their validation metrics alone (never on the other seeds', never on test), and
the other seeds train the selected setting only; the queue takes those runs in once the
selection is made, by whichever worker finishes the pilot; a killed study resumes."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import study
from tests.helpers import REPO
from tests.training.study.helpers import contender, study_files, write_metrics
from training.study import Study
from training.study.leaderboard import collect, main_tasks
from training.study.pilot import Pilot
from training.study.tuning import select

PILOT = """\
name: pilot
base: {base}
seeds: 3
grid:
  train.weighting: [equal, uncertainty]
tune:
  grid: {{train.learning_rate: [0.001, 0.003]}}
  pilot_seeds: 1
tuned_equal:
  train.learning_rate: [0.001, 0.003]
"""

# Validation rmse of the pilot seed by (contender, setting): lower is better.
VALIDATION = {"single_task y1": {"0.001": 1.0, "0.003": 0.8},
              "single_task y2": {"0.001": 0.7, "0.003": 0.9},
              "cell equal": {"0.001": 1.1, "0.003": 0.6},
              "cell uncertainty": {"0.001": 0.5, "0.003": 1.0},
              "tuned_equal": {"0.001": 0.9, "0.003": 0.7}}
CHOSEN = {"single_task y1": "0.003", "single_task y2": "0.001", "cell equal": "0.003",
          "cell uncertainty": "0.001", "tuned_equal": "0.003"}
FOLDERS = {"single_task y1": "single_task/y1", "single_task y2": "single_task/y2",
           "cell equal": "runs/equal", "cell uncertainty": "runs/uncertainty",
           "tuned_equal": "tuned_equal"}


@pytest.fixture
def planned(tmp_path):
    """The PILOT study planned (nothing trained)."""
    path, out = study_files(tmp_path / "files", PILOT)
    return Study(path, out)


def _finish_pilot(plan, test=lambda chosen: 2.0, skip=()):
    """Writes the pilot runs' metrics as if trained: VALIDATION, and test rmse `test(whether
    the setting is its contender's CHOSEN one)`; runs whose unit is in `skip` are left."""
    for run in plan.runs:
        if run.after_pilot or run.unit in skip:
            continue
        name, setting = contender(run)
        write_metrics(run, "evaluation_validation.json", VALIDATION[name][setting])
        write_metrics(run, "metrics.json", test(CHOSEN[name] == setting))


def _picked(run):
    """(contender name, the setting `run` trains): the tuned baseline's is its cell."""
    name, setting = contender(run)
    return name, run.cell if run.group == "tuned_equal" else setting


def _selections(content):
    return {name: choice["selected"] for name, choice in content["tune"]["contenders"].items()}


def test_the_pilot_trains_every_setting_and_the_other_seeds_wait_for_its_selection(planned):
    pilot = [r for r in planned.runs if not r.after_pilot]
    assert {r.seed for r in pilot} == {0} and len(pilot) == 5 * 2  # contenders x settings
    assert planned.plan.units() == {r.unit: [r] for r in pilot}  # only these can be queued
    after = [r for r in planned.runs if r.after_pilot]
    assert sorted((r.contender, r.seed) for r in after) == sorted(
        (folder, seed) for folder in FOLDERS.values() for seed in (1, 2))
    assert all(r.waiting and r.config is None and not r.done for r in after)
    assert planned.runs.index(after[0]) == len(pilot)  # the pilot first
    line = study.plan_line(next(r for r in after if r.contender == "runs/equal"), "out")
    assert "equal (after the pilot's selection)" in line and "waits" in line
    assert line.endswith(os.path.join("out", "runs", "equal", "<selected>", "seed1"))


def test_selection_reads_the_pilot_seeds_validation_only_never_test(planned, monkeypatch):
    plan = planned.plan
    _finish_pilot(plan, test=lambda chosen: 2.0 if chosen else 0.01)  # others better on test
    import training.study.leaderboard as reading  # pilot reads through its read_json

    real_open, opened = open, []

    def no_test(path, *args, **kwargs):  # the stage selects without opening test metrics
        assert not str(path).endswith("metrics.json"), path
        opened.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(reading, "open", no_test, raising=False)
    made = Pilot(plan).choose_ready(log=lambda *_: None)
    monkeypatch.undo()
    assert len(opened) == 10  # each pilot run's validation metrics
    assert sorted(made) == sorted(FOLDERS.values())
    recorded = {name: json.load(open(os.path.join(plan.output, folder, "selection.json")))
                for name, folder in FOLDERS.items()}
    assert {name: r["selected"] for name, r in recorded.items()} == CHOSEN
    assert all(r["pilot_seeds"] == [0] and set(r["seeds"].values()) == {1}
               for r in recorded.values())
    # What select() gives on the pilot seed, directly: the single-task models, then a cell
    # by Δm against them.
    tasks, primary, _ = main_tasks(plan)
    y1 = select({s: {0: {"y1": {"rmse": v}}} for s, v in VALIDATION["single_task y1"].items()},
                [tasks[0]], primary)
    assert y1["selected"] == recorded["single_task y1"]["selected"]
    reference = {0: {"y1": {"rmse": 0.8}, "y2": {"rmse": 0.7}}}
    equal = select({s: {0: {t: {"rmse": v} for t in ("y1", "y2")}}
                    for s, v in VALIDATION["cell equal"].items()}, tasks, primary, reference)
    assert equal == {k: recorded["cell equal"][k] for k in ("scores", "seeds", "selected")}
    # The other seeds ran the selected setting only; poison their validation (the selected
    # setting looks awful there) and plant the full design's other settings on them (as
    # copied from a study without a pilot), far better on validation and on test.
    after = [r for r in plan.runs if r.after_pilot]
    assert all(setting == CHOSEN[name] for name, setting in map(_picked, after))
    for run in after:
        write_metrics(run, "evaluation_validation.json", 1000.0)
        write_metrics(run, "metrics.json", 2.0)
        other = plan._setting_run(run, "0.001" if _picked(run)[1] == "0.003" else "0.003")
        write_metrics(other, "evaluation_validation.json", 1e-4)
        write_metrics(other, "metrics.json", 1e-4)
    content = collect(plan)
    assert _selections(content) == CHOSEN
    rows = {r["cell"]: r for r in content["leaderboard"]}
    assert all(r["seeds"] == [0, 1, 2] for r in rows.values())  # n = every seed
    assert all(e["mean"] == pytest.approx(2.0) for r in rows.values() for e in r["tasks"].values())
    assert content["tune"]["pilot_seeds"] == [0]
    assert sum(r["selected"] for r in content["runs"]) == 5 * 3  # contenders x every seed
    # Recomputed without the recorded selections: the same (the pilot seed only is read).
    plan.selections.clear()
    assert _selections(collect(plan)) == CHOSEN
    # The check can fail: the pilot seed's other setting made better on validation moves
    # the recomputed selection; the recorded one holds once read back.
    run = next(r for r in plan.runs if r.contender == "runs/equal" and r.setting == "0.001"
               and r.seed == 0)
    write_metrics(run, "evaluation_validation.json", 0.01)
    assert _selections(collect(plan))["cell equal"] == "0.001"
    plan.refresh()
    assert _selections(collect(plan))["cell equal"] == "0.003"


def _queue(path, out, url, worker):
    from training.study.storage import open_storage
    from training.study.trials import TrialQueue

    planned = Study(path, out)
    return TrialQueue(open_storage(url, heartbeat=30), planned.plan, worker, url,
                      stage=lambda: planned.stage_units(lambda *_: None))


def _fake_train(claim, fail=False):
    """Writes the claim's run as if it had trained (or failed with exit status 3)."""
    run = claim.runs[0]
    if fail:
        os.makedirs(run.run_dir, exist_ok=True)
        with open(os.path.join(run.run_dir, "study_run.json"), "w") as f:
            json.dump({"status": 3}, f)
        return
    name, setting = contender(run)
    write_metrics(run, "evaluation_validation.json",
                  VALIDATION[name][setting] if run.seed == 0 else 1000.0)
    write_metrics(run, "metrics.json", 2.0)


def test_the_runs_after_the_pilot_are_queued_once_it_is_selected(tmp_path):
    """On the trial queue (no training: finished runs are written): the pilot's units are
    queued first; the worker finishing the last pilot run a contender (or a cell's single-task
    references) waits for selects it and queues its other seeds before its trial completes,
    a failed run counting with no score; another worker takes them; a worker started after
    a kill between the pilot and the selection selects and queues."""
    path, out = study_files(tmp_path / "files", PILOT)
    url = f"sqlite:///{tmp_path}/s.db"
    first, second = _queue(path, out, url, "here:1:1"), _queue(path, out, url, "here:2:2")
    assert first.prepare() == 10 and second.prepare() == 0  # the pilot's units only
    queued_at_complete, tell = {}, first.storage.set_trial_state_values

    def spy(trial_id, state, values=None):  # what the other workers see when it ends
        import optuna
        if state.name in ("COMPLETE", "FAIL"):
            units = [t.user_attrs["unit"] for t in optuna.load_study(
                study_name="pilot", storage=url).get_trials(deepcopy=False)]
            queued_at_complete[trial_id] = sorted(u for u in units if "seed0" not in u)
        return tell(trial_id, state, values)

    first.storage.set_trial_state_values = spy
    ends = []
    for _ in range(10):  # the pilot's units, queued first
        claim = first.claim()
        assert claim.runs[0].seed == 0
        failed = claim.unit == os.path.join("tuned_equal", "0.003", "seed0")
        _fake_train(claim, fail=failed)
        first.finish(claim, not failed, 0.0)
        ends.append((claim.unit, queued_at_complete[claim.trial._trial_id]))
    # Pilot order: y1 0.001, y2 0.001, y1 0.003, y2 0.003, tuned_equal 0.001 and 0.003
    # (failed), equal 0.001 and 0.003, uncertainty 0.001 and 0.003. Each contender's last
    # pilot run queues its other seeds (a cell's after its single-task references').
    new = [sorted(set(q) - set(ends[i - 1][1] if i else [])) for i, (_, q) in enumerate(ends)]
    assert new == [[], [], ["single_task/y1/seed1", "single_task/y1/seed2"],
                   ["single_task/y2/seed1", "single_task/y2/seed2"], [],
                   ["tuned_equal/seed1", "tuned_equal/seed2"], [],
                   ["runs/equal/seed1", "runs/equal/seed2"], [],
                   ["runs/uncertainty/seed1", "runs/uncertainty/seed2"]], ends
    taken = []
    while (claim := second.claim()) is not None:
        taken.append(claim)
        _fake_train(claim)
        second.finish(claim, True, 0.0)
    assert len(taken) == 10
    for claim in taken:  # the selected setting (the tuned baseline's failed 0.003 unscored)
        run = claim.runs[0]
        name, setting = _picked(run)
        want = "0.001" if name == "tuned_equal" else CHOSEN[name]
        assert setting == want and run.seed in (1, 2), claim.unit
        assert os.path.basename(os.path.dirname(run.run_dir)) == want
        if name != "tuned_equal":
            assert claim.trial.params["setting"] == want
    content = collect(second.plan)
    assert content["tune"]["contenders"]["tuned_equal"]["seeds"] == {"0.001": 1}
    # Killed after its pilot ran, before any selection was recorded: the next worker
    # selects and queues.
    again = tmp_path / "again"
    path, out = study_files(again, PILOT)
    for run in Study(path, out).plan.runs:  # (a throwaway plan: only to write the pilot)
        if not run.after_pilot:
            name, setting = contender(run)
            write_metrics(run, "evaluation_validation.json", VALIDATION[name][setting])
            write_metrics(run, "metrics.json", 2.0)
    later = _queue(path, out, f"sqlite:///{again}/s.db", "here:3:3")
    assert later.prepare() == 10 and all(u.endswith(("seed1", "seed2")) for u in
                                         later.units if not later.units[u][0].done)
    assert json.load(open(os.path.join(out, "runs", "equal", "selection.json")))[
        "selected"] == "0.003"


SEARCHED = """\
name: searched_pilot
base: {base}
seeds: 3
grid: {{train.weighting: [equal]}}
single_task: false
tune: {{grid: {{train.learning_rate: [0.001, 0.003]}}, pilot_seeds: 2}}
tuned_equal:
  search: tpe
  trials: 2
  space: {{train.learning_rate: {{low: 0.001, high: 0.1, log: true}}}}
"""


def test_a_searched_tuned_baseline_draws_its_settings_on_the_pilot_seeds(tmp_path):
    """Each drawn setting (one trial of the search's own study) trains the pilot seeds; the
    selected one's other seed is a trial of the study's own, not a draw."""
    path, out = study_files(tmp_path / "files", SEARCHED)
    queue = _queue(path, out, f"sqlite:///{tmp_path}/s.db", "here:1:1")
    assert queue.prepare() == 2 + 2 * 2  # two drawn settings, the cell's 2 settings x 2 seeds
    taken = {}
    while (claim := queue.claim()) is not None:
        taken[claim.unit] = (claim.study.study_name, [r.seed for r in claim.runs],
                             [os.path.relpath(r.run_dir, out) for r in claim.runs])
        for run in claim.runs:  # the second drawn setting better on validation
            write_metrics(run, "evaluation_validation.json", 1.0 if "tpe000" in run.run_dir
                          else 0.5)
            write_metrics(run, "metrics.json", 1.0)
        queue.finish(claim, True, 0.0)
    assert taken["tuned_equal/tpe000"][:2] == ("searched_pilot:tuned_equal", [0, 1])
    assert taken["tuned_equal/seed2"] == ("searched_pilot", [2], ["tuned_equal/tpe001/seed2"])
    assert taken["runs/equal/seed2"][1] == [2] and len(taken) == 8
    assert json.load(open(os.path.join(out, "tuned_equal", "selection.json")))[
        "pilot_seeds"] == [0, 1]


KILLED = """\
name: pilot_killed
base: {base}
seeds: 3
grid:
  train.weighting: [equal, uncertainty]
single_task: false
tune:
  grid: {{train.learning_rate: [0.003, 0.03]}}
  pilot_seeds: 1
"""


def _study_worker(path, out, url, *flags):
    return subprocess.Popen(
        [sys.executable, "study.py", "--config", path, "--output", str(out), "--storage", url,
         "--worker", "--jobs", "0", *flags], cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_a_study_killed_after_a_selection_resumes_on_two_workers(tmp_path):
    """A worker SIGKILLed once its first contender is selected (the other's pilot still
    to train); two workers then finish the study: the recorded selection holds, the other
    seeds ran only the selected setting, each run trained once (the killed one resumed)."""
    quiet = "epochs: 1\n  diagnostics_per_epoch: 0\n  affinity_per_epoch: 0\n  gate_diagnostics: false"
    from tests.conftest import SMALL_BASE
    path, out = study_files(tmp_path / "files", KILLED, SMALL_BASE.replace("epochs: 2", quiet))
    url = f"sqlite:///{tmp_path}/s.db"
    first = _study_worker(path, out, url, "--heartbeat", "1")
    selection = os.path.join(out, "runs", "equal", "selection.json")
    deadline = time.time() + 400
    while not os.path.exists(selection):
        assert first.poll() is None and time.time() < deadline, first.communicate()[0]
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    chosen = json.load(open(selection))["selected"]
    workers = [_study_worker(path, out, url, "--heartbeat", "1") for _ in range(2)]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert json.load(open(selection))["selected"] == chosen
    content = json.load(open(os.path.join(out, "study.json")))
    assert all(r["status"] == "done" for r in content["runs"]) and len(content["runs"]) == 8
    for cell in ("equal", "uncertainty"):
        picked = json.load(open(os.path.join(out, "runs", cell, "selection.json")))["selected"]
        for seed in (1, 2):
            folders = os.listdir(os.path.join(out, "runs", cell))
            assert os.path.exists(os.path.join(out, "runs", cell, picked, f"seed{seed}",
                                               "metrics.json"))
            other = next(f for f in folders if f not in (picked, "selection.json"))
            assert not os.path.exists(os.path.join(out, "runs", cell, other, f"seed{seed}"))
    attempts = sorted(len(open(os.path.join(out, r["run_dir"], "study_attempts.jsonl"))
                          .readlines()) for r in content["runs"])
    assert attempts[:-1] == [1] * 7 and attempts[-1] <= 2, attempts  # (the killed one: 2)
    rows = {r["cell"]: r for r in content["leaderboard"]}
    assert rows["equal"]["setting"] == chosen and rows["equal"]["seeds"] == [0, 1, 2]
