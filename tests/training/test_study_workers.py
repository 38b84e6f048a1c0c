"""Studies spread over workers on one Optuna storage: several worker processes finish a study
with every run trained once (SQLite and a real PostgreSQL server), a SIGKILLed worker's run
is taken over and finished once, a silent worker's trial is taken over after the grace
period, duplicates are dropped, a TPE search draws the tuned baseline's settings, and bad
storages are refused with a clear message."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import study
from tests.conftest import SMALL_BASE
from tests.helpers import REPO, free_port
from tests import postgres

WORKERS_STUDY = """\
name: workers
base: {base}
seeds: {seeds}
grid:
  model.architecture: [shared_bottom, mmoe]
single_task: false
"""


def _study(root, seeds=3, text=WORKERS_STUDY, **extra):
    """A small study file (2 cells x seeds, no baselines) on a tiny mmoe_synthetic."""
    root.mkdir(parents=True, exist_ok=True)
    base = root / "base.yaml"
    base.write_text(SMALL_BASE.format(data_dir=root / "tfds"))
    path = root / "study.yaml"
    path.write_text(text.format(base=base, seeds=seeds, **extra))
    return str(path)


def _worker(path, out, url, *flags):
    return subprocess.Popen(
        [sys.executable, "study.py", "--config", path, "--output", str(out), "--storage", url,
         "--worker", *flags], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


def _attempts(run_dir):
    path = os.path.join(run_dir, "study_attempts.jsonl")
    with open(path) as f:
        return [json.loads(line) for line in f]


def _trials(url, name):
    import optuna
    return optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)


def _two_workers_finish_once(tmp_path, url):
    path, out = _study(tmp_path / "files"), tmp_path / "out"
    procs = [_worker(path, out, url, "--jobs", "0", "--heartbeat", "2") for _ in range(2)]
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    content = json.load(open(out / "study.json"))
    assert len(content["runs"]) == 6 and all(r["status"] == "done" for r in content["runs"])
    # Each run trained exactly once, and both workers trained some.
    for r in content["runs"]:
        assert len(_attempts(out / r["run_dir"])) == 1, r["run_dir"]
    assert len({r["worker"] for r in content["runs"]}) == 2, outputs
    trials = _trials(url, "workers")
    complete = [t.user_attrs["unit"] for t in trials if t.state.name == "COMPLETE"]
    assert sorted(complete) == sorted(r["run_dir"] for r in content["runs"])
    # A later invocation finds everything done and prints the leaderboard.
    assert study.main(["--config", path, "--output", str(out), "--storage", url]) == 0


@pytest.mark.slow
def test_two_worker_processes_on_sqlite_finish_a_study_each_run_once(tmp_path):
    _two_workers_finish_once(tmp_path, f"sqlite:///{tmp_path}/shared.db")


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL server (skipped only where the package cannot be installed)."""
    if postgres.binaries() is None:
        pytest.skip(postgres.INSTALL_HINT)
    folder = tempfile.mkdtemp(prefix="mtl-zoo-pg-")  # reachable by the postgres user
    try:
        with postgres.server(folder) as url:
            yield url
    finally:
        subprocess.run(["rm", "-rf", folder])


@pytest.mark.slow
def test_two_worker_processes_on_a_real_postgresql_server(tmp_path, postgres_url):
    _two_workers_finish_once(tmp_path, postgres_url)


def _children_training(run_dir):
    import psutil
    return [p for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"] and "train.py" in " ".join(p.info["cmdline"])
            and str(run_dir) in " ".join(p.info["cmdline"])]


@pytest.mark.slow
def test_a_sigkilled_worker_s_run_is_taken_over_and_finished_once(tmp_path):
    path = _study(tmp_path / "files", seeds=1)
    out, url = tmp_path / "out", f"sqlite:///{tmp_path}/shared.db"
    flags = ["--jobs", "1", "--heartbeat", "1", "--grace", "3", "--set", "train.epochs=12"]
    first = _worker(path, out, url, *flags)
    run_dir = out / "runs" / "shared_bottom" / "seed0"
    deadline = time.time() + 300
    while not (run_dir / "checkpoints").exists() or not os.listdir(run_dir / "checkpoints"):
        assert first.poll() is None and time.time() < deadline, first.communicate()[0]
        time.sleep(0.5)
    first.send_signal(signal.SIGKILL)  # mid-run: a checkpoint written, training going on
    first.wait()
    deadline = time.time() + 20
    while _children_training(run_dir):  # its train.py dies with it (parent-death signal)
        assert time.time() < deadline, "the killed worker's train.py kept running"
        time.sleep(0.5)
    second = _worker(path, out, url, *flags)
    output = second.communicate(timeout=900)[0]
    assert second.returncode == 0, output
    attempts = _attempts(run_dir)
    assert len(attempts) == 2 and attempts[0]["worker"] != attempts[1]["worker"]
    assert json.load(open(run_dir / "study_run.json"))["worker"] == attempts[1]["worker"]
    trials = _trials(url, "workers")
    states = sorted((t.user_attrs["unit"], t.state.name) for t in trials)
    assert states == [("runs/mmoe/seed0", "COMPLETE"), ("runs/shared_bottom/seed0", "COMPLETE"),
                      ("runs/shared_bottom/seed0", "FAIL")]
    retry = next(t for t in trials if t.state.name == "COMPLETE"
                 and t.user_attrs["unit"] == "runs/shared_bottom/seed0")
    assert retry.system_attrs["failed_trial"] == attempts[0]["trial"]
    content = json.load(open(out / "study.json"))
    assert [r["status"] for r in content["runs"]] == ["done", "done"]


def _queue(path, out, url, worker, heartbeat=1, grace=2):
    from training.study import Study
    from training.study.storage import open_storage
    from training.study.trials import TrialQueue

    planned = Study(path, str(out))
    return TrialQueue(open_storage(url, heartbeat=heartbeat, grace=grace), planned.plan,
                      worker, url)


def test_a_silent_worker_s_trial_is_taken_over_after_the_grace_period(tmp_path):
    path, out = _study(tmp_path / "files", seeds=1), tmp_path / "out"
    url = f"sqlite:///{tmp_path}/shared.db"
    gone = _queue(path, out, url, "elsewhere:1:1")  # another machine: no local pid to check
    assert gone.prepare() == 2
    lost = gone.claim()
    here = _queue(path, out, url, "here:2:2")
    assert here.prepare() == 0  # both units live already
    other = here.claim()
    assert other.unit != lost.unit and here.claim() is None  # nothing waiting yet
    for _ in range(7):  # past the grace period: no heartbeat from `gone`, ours go on
        time.sleep(0.5)
        assert here.heartbeat(other)
    taken = here.claim()
    retried = here.storage.get_trial(taken.trial._trial_id)
    assert taken.unit == lost.unit and retried.system_attrs["failed_trial"] == lost.number
    assert gone.heartbeat(lost) is False and gone.finish(lost, True, 1.0) is False
    assert here.finish(taken, True, 0.5) and here.finish(other, True, 0.5)
    assert here.active() == 0


def test_a_unit_queued_twice_trains_once(tmp_path):
    path, out = _study(tmp_path / "files", seeds=1), tmp_path / "out"
    url = f"sqlite:///{tmp_path}/shared.db"
    queue = _queue(path, out, url, "here:1:1", heartbeat=30)
    queue.prepare()
    first = next(iter(queue.units))
    # As when two workers queue the same missing unit at the same moment.
    queue.studies["workers"].enqueue_trial({}, user_attrs={"unit": first})
    claims = [queue.claim(), queue.claim(), queue.claim()]
    assert [c.unit for c in claims[:2]] == list(queue.units) and claims[2] is None
    dropped = [t for t in _trials(url, "workers") if t.state.name == "PRUNED"]
    assert len(dropped) == 1 and dropped[0].user_attrs["duplicate_of"] == claims[0].number


TPE_STUDY = """\
name: searched
base: {base}
seeds: 1
grid:
  model.architecture: [shared_bottom]
single_task: false
tuned_equal:
  search: tpe
  trials: 3
  startup: 1
  space:
    train.learning_rate: {{low: 0.001, high: 0.1, log: true}}
    train.task_weights: [{{}}, {{y1: 2.0}}]
"""


@pytest.mark.slow
def test_a_tpe_search_draws_the_tuned_baseline_s_settings(tmp_path, capsys):
    path, out = _study(tmp_path / "files", text=TPE_STUDY), tmp_path / "out"
    assert study.main(["--config", path, "--output", str(out), "--plan"]) == 0
    assert "tuned_equal  tpe002" in capsys.readouterr().out
    assert study.main(["--config", path, "--output", str(out), "--jobs", "0"]) == 0
    content = json.load(open(out / "study.json"))
    tuned = content["tuned_equal"]
    assert set(tuned["configs"]) == {"tpe000", "tpe001", "tpe002"} == set(tuned["scores"])
    for label, values in tuned["configs"].items():
        assert 0.001 <= values["train.learning_rate"] <= 0.1
        assert values["train.task_weights"] in ({}, {"y1": 2.0})
        drawn = json.load(open(out / "tuned_equal" / label / "setting.json"))["overrides"]
        config = json.load(open(out / "study.json"))["runs"]
        assert any(r["cell"] == label and r["config"]["train"]["learning_rate"]
                   == drawn["train.learning_rate"] for r in config)
    trials = _trials(f"sqlite:///{out}/optuna.db", "searched:tuned_equal")
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    assert all("train.learning_rate" in t.params for t in trials)
    assert any(r["group"] == "tuned_equal" for r in content["leaderboard"])


@pytest.mark.parametrize("url, shown", [
    ("postgresql://zoo:s3cret@127.0.0.1:{port}/studies",
     "postgresql://zoo:***@127.0.0.1:{port}/studies: cannot open: "),
    ("redis://zoo:s3cret@127.0.0.1:{port}", "unknown kind 'redis'; valid: sqlite:///PATH"),
])
def test_a_storage_that_cannot_be_reached_fails_within_seconds(tmp_path, capsys, url, shown):
    port = free_port()  # nothing listens there
    path = _study(tmp_path / "files", seeds=1)
    start = time.perf_counter()
    code = study.main(["--config", path, "--output", str(tmp_path / "out"), "--storage",
                       url.format(port=port)])
    err = capsys.readouterr().err
    assert code == 2 and time.perf_counter() - start < 10
    assert err.startswith("error: --storage ") and shown.format(port=port) in err, err
    assert "s3cret" not in err


def test_a_worker_with_another_study_file_is_refused_naming_the_difference(tmp_path, capsys):
    path, out = _study(tmp_path / "files", seeds=2), tmp_path / "out"
    url = f"sqlite:///{tmp_path}/shared.db"
    _queue(path, out, url, "here:1:1").prepare()
    changed = _study(tmp_path / "changed", seeds=1)
    assert study.main(["--config", changed, "--output", str(out), "--storage", url,
                       "--worker"]) == 2
    err = capsys.readouterr().err
    assert "study 'workers' there was planned from another study file: seeds: [0, 1] in the " \
           "storage, [0] here" in err, err
    assert study.main(["--config", path, "--output", str(out), "--worker"]) == 2
    assert "--worker: needs --storage URL" in capsys.readouterr().err


def _finished_affinity_run(run_dir, tasks=("y0", "y1", "y2", "y3")):
    """What a finished affinity run leaves for the grouping stage: its history with the
    affinity (y0+y1 and y2+y3 help each other) and its metrics."""
    z = [[1.0 if (i < 2) == (j < 2) else -1.0 for j in range(len(tasks))]
         for i in range(len(tasks))]
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "history.json"), "w") as f:
        json.dump([{"diagnostics": {"tasks": list(tasks), "affinity": z}}], f)
    with open(os.path.join(run_dir, "metrics.json"), "w") as f:
        json.dump({}, f)


def test_a_grouping_study_queues_its_group_runs_once_their_groupings_are_chosen(tmp_path):
    """The grouping stage on the trial queue (no training: finished runs are written): the
    affinity runs are queued first; finishing one chooses its seed's groupings and queues
    their runs before its trial completes; another worker takes them; a worker started
    later chooses the groupings of a seed whose affinity run is done."""
    from tests.conftest import GROUPING_BASE, GROUPING_STUDY
    from training.study import Study
    from training.study.storage import open_storage
    from training.study.trials import TrialQueue

    root, out, url = tmp_path / "files", str(tmp_path / "out"), f"sqlite:///{tmp_path}/s.db"
    root.mkdir()
    (root / "base.yaml").write_text(GROUPING_BASE.format(data_dir=root / "tfds"))
    (root / "study.yaml").write_text(GROUPING_STUDY.format(base=root / "base.yaml"))

    def worker(name):
        planned = Study(str(root / "study.yaml"), out)
        return TrialQueue(open_storage(url, heartbeat=30), planned.plan, name, url,
                          stage=lambda: planned.stage_units(lambda *_: None))

    first, second = worker("here:1:1"), worker("here:2:2")
    assert first.prepare() == 2 + 2 * (4 + 2) and second.prepare() == 0  # affinity, plan
    assert list(first.units)[:2] == ["grouping/affinity/seed0", "grouping/affinity/seed1"]
    claim = first.claim()
    assert claim.unit == "grouping/affinity/seed0" and claim.trial.params == {
        "grouping": "affinity", "task.y0": True, "task.y1": True, "task.y2": True,
        "task.y3": True, "seed": 0}
    _finished_affinity_run(claim.runs[0].run_dir)
    queued_when_completed, tell = [], first.storage.set_trial_state_values

    def spy(trial_id, state, values=None):  # what the others see when it completes
        if state.name == "COMPLETE":
            queued_when_completed.extend(sorted(
                t.user_attrs["unit"] for t in _trials(url, first.name)
                if t.user_attrs["unit"].startswith("groups/")))
        return tell(trial_id, state, values)

    first.storage.set_trial_state_values = spy
    assert first.finish(claim, True, 0.5)
    groups = sorted(u for u in (t.user_attrs["unit"] for t in _trials(url, first.name))
                    if u.startswith("groups/"))
    assert groups and all(u.endswith("/seed0") for u in groups)
    assert queued_when_completed == groups
    taken = {}
    while (c := second.claim()) is not None:
        taken[c.unit] = c
    assert sorted(u for u in taken if u.startswith("groups/")) == groups  # none dropped
    pair = taken[groups[0]]
    assert pair.runs[0].group == "group" and pair.trial.params["grouping"] == "group"
    assert [t for t in ("y0", "y1", "y2", "y3") if pair.trial.params[f"task.{t}"]] == \
        pair.runs[0].config.data.tasks
    # seed 1's affinity run finished, but its worker died before choosing: the next worker
    # to start chooses, and queues the group runs.
    _finished_affinity_run(taken["grouping/affinity/seed1"].runs[0].run_dir)
    later = worker("here:3:3")
    assert later.prepare() == len(groups)
    assert os.path.exists(os.path.join(out, "grouping", "seed1", "plan.json"))
