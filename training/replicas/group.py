"""`ReplicaGroup`: runs that differ only in their seeds, trained in one process and one
graph, each written to its run dir as `Experiment.train` writes a run of its own.

Each replica's run dir gets `config.yaml`, `history.json` (after every epoch),
`best.keras` (its best epoch by `train.monitor`), `metrics.json` (test metrics of that
model, exact AUC, label counts) and `evaluation_validation.json`: `evaluate.py`,
`export.py` and `report.py --run` work on it. Not written: `checkpoints/` and TensorBoard
`logs/`; the group's own checkpoint (`checkpoint_dir/replicas.npz`, after every
epoch) resumes every replica at once.

Example:
>>> from training.config import load_config
>>> from training.experiment import Experiment
>>> configs = [load_config("configs/mmoe_synthetic.yaml", [f"train.seed={s}"]) for s in (0, 1)]
>>> group = ReplicaGroup([Experiment(c) for c in configs], ["runs/r0", "runs/r1"],
...                      "runs/r_group")                         # doctest: +SKIP
>>> results = group.train()                                      # doctest: +SKIP
"""

import json
import os
import re

import numpy as np

from training.config import save_config
from training.experiment import write_json
from training.replicas.data import Split, example_mapper, split_arrays
from training.replicas.stacked import EXTRA_LOSSES, StackedModel
from training.replicas.support import group_unsupported, model_unsupported
from training.replicas.trainer import ReplicaTrainer


class Unsupported(ValueError):
    """The runs cannot share one graph; the message says why, in one line."""


def unvectorised(err):
    """One line from the error of tracing the vectorised map: the model's own losses, or
    the op (and the layer it sits in) that has no vectorised form, else the error's last
    line.

    >>> unvectorised(ValueError('in user code:\\n\\n    ValueError: No pfor vectorization '
    ...     'defined for Conv2D\\n    name: "loop_body/conv/Conv2D"\\n    op: "Conv2D"'))
    'an op of the model has no vectorised form (Conv2D, in conv)'
    >>> unvectorised(ValueError('Input "filter" of op \\'Conv2D\\' expected to be loop invariant.'))
    'an op of the model has no vectorised form (Conv2D)'
    """
    text = str(err)
    if EXTRA_LOSSES in text:
        return EXTRA_LOSSES
    op = re.search(r"No pfor vectorization defined for (\w+)|of op '(\w+)' expected to be "
                   r"loop invariant", text)
    if op is None:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return f"an op of the model has no vectorised form ({(lines or [''])[-1][:160]})"
    name = re.search(r'name: "loop_body/([^/"]+)/', text)
    where = f", in {name.group(1)}" if name else ""
    return f"an op of the model has no vectorised form ({op.group(1) or op.group(2)}{where})"


class ReplicaGroup:
    """S experiments that differ only in `seed_keys`, trained as replicas of one graph.

    Args:
        experiments: list of `Experiment`. One per run, in the order of `run_dirs`.
        run_dirs: list of str. Where each run is written.
        checkpoint_dir: str. The group's checkpoint (resume).
        seed_keys: list of str. The config keys in which the runs may differ.
        verbose: int. 1: one line per epoch for the group.

    Raises `Unsupported` (one line) when the runs cannot share a graph.
    """

    def __init__(self, experiments, run_dirs, checkpoint_dir, seed_keys=("train.seed",),
                 verbose=1):
        if len(experiments) != len(run_dirs) or not experiments:
            raise ValueError("ReplicaGroup: one run dir per experiment, at least one")
        reason = group_unsupported([e.config for e in experiments], list(seed_keys))
        if reason:
            raise Unsupported(reason)
        self.experiments, self.run_dirs = list(experiments), list(run_dirs)
        self.checkpoint_dir = checkpoint_dir
        self.verbose = verbose
        self.first = self.experiments[0]

    # ----------------------------------------------------------------- set-up
    def build(self):
        """Data, the replicas' models (each initialised as its own run would be) and the
        trainer; raises `Unsupported` when the model cannot be stacked."""
        for e, run_dir in zip(self.experiments, self.run_dirs):
            os.makedirs(run_dir, exist_ok=True)
            save_config(e.config, os.path.join(run_dir, "config.yaml"))
            if e.spec.arrays is None:
                e.prepare()
        first = self.first
        for e in self.experiments[1:]:
            if (e.spec.inputs, e.tasks) != (first.spec.inputs, first.tasks):
                raise Unsupported("the replicas' datasets differ in their inputs or tasks")
        mapper = example_mapper(first)
        splits = {s: [split_arrays(e, s, mapper) for e in self.experiments]
                  for s in ("train", "validation", "test")}
        try:
            self.splits = {s: Split.stack(v) for s, v in splits.items()}
        except ValueError as err:
            raise Unsupported(str(err)) from None
        replicas = [e.build_model() for e in self.experiments]
        reason = model_unsupported(replicas[0])
        if reason:
            raise Unsupported(reason)
        setup = self.first.setup
        weighting = setup.make_weighting()
        try:
            self.stacked = StackedModel(replicas, self.first.tasks, setup.loss_options,
                                        weighting.fixed)
        except ValueError as err:
            raise Unsupported(str(err)) from None
        self.trainer = ReplicaTrainer(
            self.stacked, setup, self.splits["train"], self.splits["validation"],
            [e.config.train.seed for e in self.experiments],
            shuffle_buffer=self.first.config.data.shuffle_buffer, verbose=self.verbose)
        try:
            self.trainer.check()
        except (ValueError, TypeError, NotImplementedError) as err:
            raise Unsupported(unvectorised(err)) from None
        return self

    # ----------------------------------------------------------------- train
    def train(self, resume=True):
        """Trains every replica, writes its run; returns per replica its test results
        (as `Experiment.train` returns them) or None when its loss became non-finite."""
        if not hasattr(self, "trainer"):
            self.build()
        start = self._restore() if resume else 0
        self.trainer.fit(self.first.config.train.epochs, start=start,
                         on_epoch_end=self._save)
        return self._finish()

    def _finish(self):
        trainer, stacked = self.trainer, self.stacked
        for r, best in enumerate(trainer.best_weights):
            if best is not None:
                stacked.set_replica_weights(r, best)
        trainer.add_split("test", self.splits["test"])
        validation = trainer.evaluate("validation", exact=True)
        test = trainer.evaluate("test", exact=True)
        out = []
        for r, run_dir in enumerate(self.run_dirs):
            if trainer.failed[r]:
                out.append(None)
                continue
            results = self._metrics(r, test[r])
            stacked.as_model(r).save(os.path.join(run_dir, "best.keras"))
            write_json(os.path.join(run_dir, "evaluation_validation.json"), validation[r])
            write_json(os.path.join(run_dir, "metrics.json"), results)
            out.append(results)
        return out

    def _metrics(self, r, results):
        """`metrics.json` of replica r: its test results, label counts, primary metrics."""
        counts = self._label_counts(r)
        for task, splits in counts.items():
            results[task]["label_counts"] = splits
            results[task]["primary_metric"], results[task]["higher_is_better"] = \
                self.first.primary[task]
        return results

    def _label_counts(self, r):
        counts = {t.name: {} for t in self.first.tasks}
        for split, data in self.splits.items():
            masks = data.replica(r)[2]
            for t in self.first.tasks:
                counts[t.name][split] = {"labelled": int(np.sum(masks[t.name])),
                                         "examples": int(masks[t.name].shape[0])}
        return counts

    # ----------------------------------------------------------------- resume
    def _path(self):
        return os.path.join(self.checkpoint_dir, "replicas.npz")

    def _save(self, epoch):
        """The group's checkpoint (one file, replaced atomically) and each history.json."""
        arrays, info = self.trainer.state(epoch)
        info["run_dirs"] = [os.path.abspath(d) for d in self.run_dirs]
        arrays["info"] = np.array(json.dumps(info))
        os.makedirs(self.checkpoint_dir, exist_ok=True)
        with open(self._path() + ".tmp", "wb") as f:
            np.savez(f, **arrays)
        os.replace(self._path() + ".tmp", self._path())
        for r, run_dir in enumerate(self.run_dirs):
            if not self.trainer.failed[r]:
                write_json(os.path.join(run_dir, "history.json"), self.trainer.histories[r])

    def _restore(self):
        """The epoch to go on from: the checkpoint's, when it holds these very runs (a
        study whose pending seeds changed starts the group afresh)."""
        if not os.path.exists(self._path()):
            return 0
        with np.load(self._path()) as arrays:
            arrays = dict(arrays)
        info = json.loads(str(arrays.pop("info")))
        if info.pop("run_dirs", None) != [os.path.abspath(d) for d in self.run_dirs]:
            return 0
        return self.trainer.load_state(arrays, info)
