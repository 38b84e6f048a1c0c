"""The pilot of a tuned study (`tune.pilot_seeds`, `training/study/tuning.py`): each
contender's setting selected on the pilot seeds once its pilot has finished, after which
its runs with the other seeds can be queued.

A contender (a cell, a single-task model, the tuned equal weighting) is selected once
every run of its pilot (each setting with each pilot seed) has finished, done or failed
(a failed run counts with no score), and so have the pilots of the single-task models it
is scored against (Δm against their validation metrics at their own selected setting).
Whichever worker sees that first selects: `choose_ready` is asked by the trial queue
after each unit finishes and when a worker starts (`TrialQueue.grow`, as the grouping
stage is), reads the pilot runs' validation metrics only (never `metrics.json`) and
selects with the leaderboard's own code (`leaderboard.selections`, on the pilot seeds).
`Plan.choose` records the selection in the contender's folder (`selection.json`; the
first one recorded holds) and gives the contender's runs after the pilot their run dirs
and configs, so the queue takes them in (`Plan.units`); the next invocation of a killed
study reads the recorded selections back (`Plan.refresh`).

A contender none of whose settings finished a pilot run (every one failed) is not
selected: its runs after the pilot wait, and the next invocation retries the failed
runs as any study does.

Example:
>>> from training.study.pilot import ready
>>> pilots = {"single_task/y1": [True, True], "runs/equal": [True, True],
...           "runs/pcgrad": [True, False]}
>>> ready(pilots, {"runs/equal": ["single_task/y1"], "runs/pcgrad": ["single_task/y1"]})
['single_task/y1', 'runs/equal']
"""

import os

from training.study.leaderboard import _index, main_tasks, read_json, selections


def ready(pilots, references):
    """The contenders whose pilot runs, and their references' pilot runs, have all finished.

    Args:
        pilots: {contender: [whether each of its pilot runs has finished]}.
        references: {contender: [the contenders it is scored against]}.
    """
    done = {c for c, finished in pilots.items() if all(finished)}
    return [c for c in pilots if c in done and all(r in done for r in references.get(c, ()))]


def failed(run):
    """Whether `run`'s last attempt ended without its metrics (a non-zero exit status)."""
    if run.waiting or run.done:
        return False
    return bool((read_json(os.path.join(run.run_dir, "study_run.json")) or {}).get("status"))


class Pilot:
    """The pilot of a planned study (`Plan`) whose `tune` has `pilot_seeds`."""

    def __init__(self, plan):
        self.plan = plan
        self._primary = None

    def references(self, contender):
        """The single-task contenders whose selections `contender` is scored against."""
        plan = self.plan
        if not plan.spec.single_task or contender.startswith("single_task"):
            return []
        run = next(r for r in plan.runs if r.contender == contender)
        group = run.data_group if run.group == "cell" else next(iter(plan.data_groups()))
        return list(dict.fromkeys(r.contender for r in plan.runs
                                  if r.group == "single_task" and r.data_group == group))

    def choose_ready(self, log=print):
        """Selects every contender whose pilot has finished and whose selection is not
        recorded yet (the recorded ones read first); returns the contenders selected."""
        plan = self.plan
        plan.refresh()
        waiting = list(dict.fromkeys(r.contender for r in plan.runs if r.waiting))
        if not waiting:
            return []
        pilots = {}
        for run in plan.runs:
            if not run.after_pilot:
                pilots.setdefault(run.contender, []).append(run.done or failed(run))
        todo = [c for c in ready(pilots, {c: self.references(c) for c in waiting})
                if c in waiting]
        if not todo:
            return []
        choices = self._selections()
        made = []
        for contender in todo:
            choice = choices[contender]
            if choice["selected"] is None:
                continue  # every pilot run failed: nothing to select, nothing to train after
            held = plan.choose(contender, {**choice, "pilot_seeds": plan.pilot_seeds()})
            after = [r.seed for r in plan.runs if r.after_pilot and r.contender == contender]
            log(f"  pilot: {contender} selects setting {held['selected']} (mean validation "
                f"score over seed(s) {', '.join(map(str, plan.pilot_seeds()))}: "
                + ", ".join(f"{label} {score:.4g}" for label, score in held["scores"].items())
                + f"); seed(s) {', '.join(map(str, after))} train that setting only")
            made.append(contender)
        return made

    def _selections(self):
        """{contender: {selected, scores, seeds}} as the leaderboard selects them, from the
        pilot runs' validation metrics alone."""
        plan = self.plan
        if self._primary is None:
            self._primary = main_tasks(plan)[:2]
        tasks, primary = self._primary
        by = _index([_validation_record(r) for r in plan.runs if not r.after_pilot])
        _, chosen, tuned, cells = selections(plan, by, tasks, primary)
        keep = ("selected", "scores", "seeds")
        out = {plan.contender_folder("single_task", task, group): {k: c[k] for k in keep}
               for (task, group), c in chosen.items()}
        out.update({plan.contender_folder("cell", name): {k: c[k] for k in keep}
                    for name, c in cells.items()})
        out["tuned_equal"] = {k: tuned[k] for k in keep}
        return out


def _validation_record(run):
    """What selection reads of a pilot run: its validation metrics (no test metrics)."""
    validation = read_json(os.path.join(run.run_dir, "evaluation_validation.json"))
    return {"group": run.group, "cell": run.cell, "seed": run.seed, "setting": run.setting,
            "data_group": run.data_group, "validation": validation, "test": None}
