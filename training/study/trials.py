"""A study's work as trials in an Optuna storage: queued once, taken by one worker each.

Every unit of work (a run of a cell, a single-task baseline or a tuned setting with one
seed; or a searched setting with all its seeds) is one trial, queued as WAITING with
its parameters fixed (`Study.enqueue_trial`) in the study's Optuna study (named after
the study; a search has its own, `<name>:tuned_equal`). Any number of workers, in
any order, on any machine:

1. plan the study from the same study file and check that the storage holds that study
   (`identity`: the first worker to create it records it; a worker with another study
   file is refused, naming the difference), then queue every unit that is neither done
   (its run dirs hold `metrics.json`) nor WAITING or RUNNING;
2. take a trial: WAITING -> RUNNING is atomic in the storage (a row lock in
   PostgreSQL), so one worker gets it. Two workers that queued the same unit at once
   leave two trials; the later one is dropped (PRUNED, `duplicate_of`) when it is taken
   while an earlier trial of its unit is WAITING or RUNNING, or its runs are done.
   So a unit trains once whatever the timing: exactly one result per run;
3. while it trains, record a heartbeat every `heartbeat` seconds; a trial silent for
   the grace period is failed by whichever worker looks next and queued again with the
   same parameters (Optuna's `RetryHeartbeatStaleTrialCallback`); its runs resume from
   their last checkpoint. A RUNNING trial whose worker process is gone from this machine
   is failed and queued again at once (a killed local study resumes without waiting);
4. tell the result: COMPLETE with the unit's validation score (what a sampler learns
   from), or FAIL with the exit status.

Example:
>>> from training.study.trials import TrialQueue
>>> queue = TrialQueue(storage, plan, worker="host:123:456")   # doctest: +SKIP
>>> queue.prepare()                                             # doctest: +SKIP
>>> claim = queue.claim()                                       # doctest: +SKIP
>>> queue.finish(claim, ok=True, value=0.9)                     # doctest: +SKIP
"""

import dataclasses
import json
import os
import socket
import threading
import time

from training.study.identity import difference, identity
from training.study.plan import main_task_names
from training.study.spec import StudyError
from training.study.storage import redact, retrying

IDENTITY_KEY = "mtl_zoo_study"


def worker_id(suffix=""):
    """host:pid:start time of this process (the start time tells a reused pid apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}{suffix}"


def _start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


def _gone(worker):
    """Whether `worker` (a worker_id) is a process of this machine that no longer runs."""
    host, pid, start = (worker.split("/")[0].split(":") + ["", "", ""])[:3]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return _start_time(int(pid)) != start


@dataclasses.dataclass
class Claim:
    """A trial this worker holds: its unit's runs and (for a search) the drawn overrides."""

    study: object       # optuna.Study
    trial: object       # optuna.Trial
    unit: str
    runs: list
    overrides: dict = None

    @property
    def number(self):
        return self.trial.number


class TrialQueue:
    """The units of `plan` as trials of `storage` (an `optuna.storages.RDBStorage`).

    Args:
        storage: the opened storage (`training.study.storage.open_storage`).
        plan: `training.study.plan.Plan`. The study, planned.
        worker: str. This worker's id (`worker_id()`), recorded on the trials it takes.
        url: str. The storage's URL, for messages (shown without its password).
        stage: a function returning {unit: [runs]} of the units known now beyond the plan's
            (a grouping stage's: its affinity runs, then the group runs of each seed once
            its groupings are chosen from them); asked again after each unit finishes,
            after which the plan's units are read again too (a pilot's stage returns none:
            it gives the plan's runs after the pilot their settings, `training/study/pilot.py`).
    """

    def __init__(self, storage, plan, worker=None, url="", stage=None):
        self.storage, self.plan, self.url = storage, plan, url
        self.worker = worker or worker_id()
        self.stage, self.lock = stage, threading.Lock()
        self.units = {**(stage() if stage else {}), **plan.units()}  # a stage's runs first
        # (the plan's runs in plan order: a pilot's runs before the seeds after it)
        self.name = plan.spec.name
        self.studies = {}
        self._recovered = 0.0   # when recover() last looked (it looks once per heartbeat)

    # ---------------------------------------------------------------- set-up
    def study_name(self, unit):
        search = self.plan.search
        return f"{self.name}:{search.name}" if search and unit.startswith(
            f"tuned_equal{os.sep}") and os.path.basename(unit) in search.labels() else self.name

    def prepare(self):
        """Opens (or creates) the study's Optuna studies, checks the storage holds this
        study, and queues every unit not done and not queued."""
        # A stage's units stand in as its spec; the runs after a pilot by their unit keys.
        mine = identity(self.plan, self.plan.units(waiting=True))
        main, created = self._open(self.name, None)
        if created:
            retrying(main.set_user_attr, IDENTITY_KEY, mine)
        else:
            stored = self._stored_identity(main)
            diff = difference(stored, mine)
            if diff:
                raise StudyError(
                    f"--storage {redact(self.url)}: study {self.name!r} there was planned from "
                    f"another study file: {diff}. Give every worker the same study file and "
                    f"--set; for another study use a new --output (or another storage, or "
                    f"another `name:` in the study file)")
        self.studies = {self.name: main}
        if self.plan.search:
            name = f"{self.name}:{self.plan.search.name}"
            self.studies[name] = self._open(name, self.plan.search.sampler())[0]
        return self.enqueue_missing()

    def _open(self, name, sampler):
        import optuna

        try:
            return retrying(optuna.create_study, storage=self.storage, study_name=name,
                            direction="maximize", sampler=sampler), True
        except optuna.exceptions.DuplicatedStudyError:
            return retrying(optuna.load_study, storage=self.storage, study_name=name,
                            sampler=sampler), False

    def _stored_identity(self, study, wait_s=30):
        """The identity the creator recorded (it may still be writing it)."""
        deadline = time.time() + wait_s
        while True:
            attrs = retrying(self.storage.get_study_user_attrs, study._study_id)
            if IDENTITY_KEY in attrs or time.time() > deadline:
                return attrs.get(IDENTITY_KEY) or {}
            time.sleep(0.5)

    def grow(self):
        """Takes in the stage's units that appeared since (see `stage`), and the plan's (a
        pilot's selections give its later runs their settings); whether any did."""
        if self.stage is None:
            return False
        with self.lock:  # worker threads of one process choose a seed's groupings once
            staged = self.stage()
            new = {u: runs for u, runs in {**staged, **self.plan.units()}.items()
                   if u not in self.units}
            self.units.update(new)
        return bool(new)

    def enqueue_missing(self, new_only=False):
        """Queues the units neither done nor WAITING/RUNNING (`new_only`: nor ever queued, so
        a unit that failed waits for the next invocation); returns how many."""
        self.grow()
        live = self._live_units(every_state=new_only)
        count = 0
        for unit, runs in list(self.units.items()):  # (another thread may grow it)
            if unit in live or all(r.done for r in runs):
                continue
            retrying(self.studies[self.study_name(unit)].enqueue_trial,
                     self._fixed_params(unit, runs), user_attrs={"unit": unit})
            count += 1
        return count

    def _live_units(self, every_state=False):
        from optuna.trial import TrialState

        live = set()
        states = None if every_state else (TrialState.WAITING, TrialState.RUNNING)
        for study in self.studies.values():
            for t in retrying(study.get_trials, deepcopy=False, states=states):
                live.add(t.user_attrs.get("unit"))
        return live

    # ------------------------------------------------------------- parameters
    def _fixed_params(self, unit, runs):
        """The parameters a unit's trial shows (Optuna's dashboard plots them): for a
        search, the setting drawn before if any (a re-queued setting keeps its draw)."""
        if self.plan.search and self.study_name(unit) != self.name:
            overrides = runs[0].overrides
            return {} if overrides is None else self.plan.search.params(
                {k: v for k, v in overrides.items() if k != "train.weighting"})
        return {name: value for name, (value, _) in self._params(runs[0]).items()}

    def _params(self, run):
        """{parameter: (value, choices)} of a grid unit: the cell's axis labels (or the
        baseline's task or setting) and the seed."""
        plan = self.plan
        if run.group == "cell":
            out = {axis: (plan.cell_labels[run.cell][axis], [n for n, _ in options])
                   for axis, options in plan.axes}
        elif run.group in ("affinity", "group"):  # a grouping stage's: which tasks it trains
            trained = main_task_names(run.config)
            out = {"grouping": (run.group, ["affinity", "group"]),
                   **{f"task.{t}": (t in trained, [False, True]) for t in self.stage_tasks()}}
        elif run.group == "single_task":
            tasks = sorted({r.cell for r in plan.runs if r.group == "single_task"})
            groups = sorted({r.data_group for r in plan.runs if r.group == "single_task"})
            out = {"single_task": (run.cell, tasks)}
            if len(groups) > 1:
                out["data_group"] = (run.data_group, groups)
        else:
            out = {"tuned_equal": (run.cell, [n for n, _ in plan.tuned])}
        if plan.tune and run.group in ("cell", "single_task"):
            out["setting"] = (run.setting, plan.tune.labels())
        out["seed"] = (run.seed, list(plan.spec.seeds))
        return out

    def stage_tasks(self):
        """The cells' main tasks (a grouping stage's runs show which of them they train)."""
        if not hasattr(self, "_tasks"):
            cell = next(r for r in self.plan.runs if r.group == "cell")
            self._tasks = main_task_names(cell.config)
        return self._tasks

    # ------------------------------------------------------------------ work
    def claim(self):
        """Takes the next WAITING trial of this study; None when there is none."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        interval = self.storage.get_heartbeat_interval() or 30
        if time.monotonic() - self._recovered >= min(interval, 10):
            self.recover()
            self._recovered = time.monotonic()
        for study in self.studies.values():
            for frozen in retrying(study.get_trials, deepcopy=False, states=(TrialState.WAITING,)):
                try:
                    if not retrying(self.storage.set_trial_state_values, frozen._trial_id,
                                    TrialState.RUNNING):
                        continue  # another worker took it first
                except UpdateFinishedTrialError:
                    continue
                claim = self._take(study, frozen._trial_id)
                if claim is not None:
                    return claim
        return None

    def _take(self, study, trial_id):
        """A trial just set RUNNING: heartbeat, worker, and the duplicate rule."""
        import optuna
        from optuna.trial import TrialState

        retrying(self.storage.record_heartbeat, trial_id)
        retrying(self.storage.set_trial_user_attr, trial_id, "worker", self.worker)
        frozen = retrying(self.storage.get_trial, trial_id)
        unit = frozen.user_attrs.get("unit")
        if unit not in self.units:  # queued by a worker that saw the stage grow first
            self.grow()
        runs = self.units.get(unit)
        if runs is None:  # not a unit of this plan (a trial someone added by hand)
            self._drop(trial_id, "not_a_unit", unit)
            return None
        earlier = [t.number for t in retrying(study.get_trials, deepcopy=False,
                                              states=(TrialState.WAITING, TrialState.RUNNING))
                   if t.user_attrs.get("unit") == unit and t.number < frozen.number]
        if earlier or all(r.done for r in runs):
            self._drop(trial_id, "duplicate_of", earlier[0] if earlier else "done")
            return None
        trial = retrying(optuna.trial.Trial, study, trial_id)
        if study.study_name == self.name:
            for name, (_, choices) in self._params(runs[0]).items():
                trial.suggest_categorical(name, choices)  # the fixed values: for the dashboard
            return Claim(study, trial, unit, runs)
        overrides = self.plan.search.suggest(trial)
        return Claim(study, trial, unit, self.plan.draw(os.path.basename(unit), overrides),
                     overrides)

    def _drop(self, trial_id, key, value):
        from optuna.trial import TrialState

        retrying(self.storage.set_trial_user_attr, trial_id, key, value)
        retrying(self.storage.set_trial_state_values, trial_id, TrialState.PRUNED)

    def heartbeat(self, claim):
        """Records a heartbeat; False when the trial is no longer this worker's (it was
        failed as stale and queued again: the caller must stop its runs)."""
        from optuna.trial import TrialState

        if retrying(self.storage.get_trial, claim.trial._trial_id).state != TrialState.RUNNING:
            return False
        retrying(self.storage.record_heartbeat, claim.trial._trial_id)
        return True

    def finish(self, claim, ok, value=None, attrs=None):
        """COMPLETE with `value`, or FAIL; False when the trial was taken over meanwhile."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        trial_id = claim.trial._trial_id
        # Queued before this trial completes (a failed run too: it may end a pilot): the
        # study never looks finished to the other workers meanwhile.
        if self.grow():
            self.enqueue_missing(new_only=True)
        try:
            for key, item in (attrs or {}).items():
                retrying(self.storage.set_trial_user_attr, trial_id, key, item)
            if ok:
                return retrying(self.storage.set_trial_state_values, trial_id,
                                TrialState.COMPLETE, [float(value)])
            return retrying(self.storage.set_trial_state_values, trial_id, TrialState.FAIL)
        except UpdateFinishedTrialError:
            return False

    def recover(self):
        """Fails (and queues again) trials whose worker went silent or, on this machine,
        whose worker process is gone."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.storages import fail_stale_trials
        from optuna.trial import TrialState

        callback = self.storage.get_heartbeat_stale_trial_callback()
        for study in self.studies.values():
            retrying(fail_stale_trials, study)
            for t in retrying(study.get_trials, deepcopy=False, states=(TrialState.RUNNING,)):
                worker = t.user_attrs.get("worker")
                if not worker or not _gone(worker):
                    continue
                try:
                    if retrying(self.storage.set_trial_state_values, t._trial_id,
                                TrialState.FAIL):
                        callback(study, retrying(self.storage.get_trial, t._trial_id))
                except UpdateFinishedTrialError:
                    pass  # another worker failed it first

    def active(self):
        """How many trials of this study are WAITING or RUNNING (here or elsewhere)."""
        from optuna.trial import TrialState

        return sum(len(retrying(s.get_trials, deepcopy=False,
                                states=(TrialState.WAITING, TrialState.RUNNING)))
                   for s in self.studies.values())

    def summary(self):
        """{state name: count} over this study's trials."""
        counts = {}
        for study in self.studies.values():
            for t in retrying(study.get_trials, deepcopy=False):
                counts[t.state.name] = counts.get(t.state.name, 0) + 1
        return json.loads(json.dumps(counts))
