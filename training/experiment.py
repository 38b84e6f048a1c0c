"""From a config to data, model and trainer: the glue shared by the entry scripts.

`Experiment(config)` takes a `training.config.Config` (what `load_config` returns),
resolves the dataset and its tasks, and the `train:` section against them
(`training.setup.TrainSetup`: the weighting method, the monitored metric, the loss
options), each once, before any data or model work.

Example:
>>> from training.config import load_config
>>> from training.experiment import Experiment
>>> exp = Experiment(load_config("configs/tiny.yaml"))        # doctest: +SKIP
>>> results = exp.train("runs/tiny")                          # doctest: +SKIP
"""

import dataclasses
import json
import os

import keras
import tensorflow as tf

import data
import models
from data import pipeline
from tasks import select_tasks
from training.config import save_config
from training.setup import TrainSetup
from training.trainer import Trainer
from utils.arguments import ArgumentError


class Experiment:
    """A resolved config: the dataset spec, the selected tasks, the data dir and the
    `TrainSetup`; ValueError naming the key when something does not fit the dataset."""

    def __init__(self, config, strategy=None, is_chief=True):
        self.config = config
        self.is_chief = is_chief
        dc = config.data
        self.spec = data.get_dataset(dc.name, **dc.options)
        self.tasks = mark_auxiliary(select_tasks(self.spec.tasks, dc.tasks, dc.name),
                                    dc.auxiliary_tasks)
        self.data_dir = dc.data_dir or pipeline.default_data_dir()
        self.strategy = strategy or tf.distribute.get_strategy()
        self.setup = TrainSetup.resolve(config.train, self.tasks)
        # Every task of the dataset: evaluate.py and studies ask for subsets of them.
        self.primary = primary_metrics(config.train.primary_metrics, self.spec.tasks)

    def primary_metrics(self, tasks=None):
        """{task: (metric, higher_is_better)} for `tasks` (default: the trained ones)."""
        return {t.name: self.primary[t.name] for t in tasks or self.tasks}

    # ------------------------------------------------------------------ data
    def prepare(self):
        pipeline.prepare(self.spec, self.data_dir)

    def examples(self, split, tasks=None):
        dc = self.config.data
        take = dc.max_train_examples if split == "train" else dc.max_eval_examples
        return pipeline.load_examples(self.spec, split, tasks or self.tasks, self.data_dir, take=take)

    def train_fn(self, tasks=None, batch_size=None):
        """`epoch -> batches`: a seeded shuffle per epoch, so a resumed run sees the same order."""
        tc, dc = self.config.train, self.config.data
        base = self.examples("train", tasks)
        size = batch_size or tc.batch_size

        def fn(epoch):
            return pipeline.batch(base, size, shuffle_seed=tc.seed + epoch,
                                  shuffle_buffer=dc.shuffle_buffer)
        return fn

    def eval_data(self, split, tasks=None, batch_size=None):
        return pipeline.batch(self.examples(split, tasks), batch_size or self.config.train.batch_size)

    def label_counts(self, tasks=None):
        """{task: {split: {"labelled": n, "examples": n}}} over train, validation and test."""
        tasks = tasks or self.tasks
        counts = {t.name: {} for t in tasks}
        for split in ("train", "validation", "test"):
            totals = {t.name: [0.0, 0] for t in tasks}
            for _, _, masks in pipeline.batch(self.examples(split, tasks), 4096):
                for t in tasks:
                    totals[t.name][0] += float(tf.reduce_sum(masks[t.name]))
                    totals[t.name][1] += int(masks[t.name].shape[0])
            for t in tasks:
                counts[t.name][split] = {"labelled": int(totals[t.name][0]),
                                         "examples": totals[t.name][1]}
        return counts

    # ----------------------------------------------------------------- model
    def build_model(self, tasks=None, architecture=None):
        """The config's model; an argument that does not fit the tasks (e.g. a funnel task
        the data lacks) raises ArgumentError, reported as a config error."""
        mc = self.config.model
        keras.utils.set_random_seed(self.config.train.seed)
        try:
            return models.MultiTaskModel(
                tasks=[t.to_config() for t in (tasks or self.tasks)],
                inputs=[i.to_config() for i in self.spec.inputs],
                architecture=architecture or mc.architecture, encoder=mc.encoder,
                encoder_args=mc.encoder_args, args=mc.args)
        except ValueError as e:  # raised by the architecture or encoder on its arguments
            raise ArgumentError(str(e)) from None

    def make_trainer(self, model, run_dir, verbose=1):
        """The config's trainer for `model` (the experiment's tasks)."""
        return Trainer(model, self.tasks, self.setup, strategy=self.strategy, run_dir=run_dir,
                       is_chief=self.is_chief, verbose=verbose)

    def evaluator(self, model):
        """A trainer that only evaluates `model` (on its own tasks): equal weighting, no
        diagnostics, the config's loss options for those tasks."""
        tasks = tuple(model.tasks)
        names = {t.name for t in tasks}
        train = dataclasses.replace(
            self.config.train, weighting="equal", weighting_args={}, task_weights={},
            monitor="val_loss", diagnostics_per_epoch=0, affinity_per_epoch=0,
            gate_diagnostics=False, gradient_on=None,
            loss_options={k: v for k, v in self.config.train.loss_options.items() if k in names})
        return Trainer(model, tasks, train, strategy=self.strategy, verbose=0)

    # ----------------------------------------------------------------- train
    def train(self, run_dir, resume=False, verbose=1):
        """Trains, evaluates the best model on the test split, writes `metrics.json`.

        `metrics.json`: per task, the test metrics at the best checkpoint (exact AUC),
        `labelled` (test examples with the task's label) and `label_counts` per split;
        `evaluation_validation.json`: the same metrics on the validation split.
        Only the chief writes files; every worker runs the same steps.
        """
        if self.is_chief:
            os.makedirs(run_dir, exist_ok=True)
            save_config(self.config, os.path.join(run_dir, "config.yaml"))
        self.prepare()
        counts = self.label_counts()
        if verbose:
            print("labels (labelled / examples): " + "; ".join(
                f"{task} " + ", ".join(f"{split} {c['labelled']}/{c['examples']}"
                                       for split, c in splits.items())
                for task, splits in counts.items()))
        with self.strategy.scope():
            model = self.build_model()
        trainer = self.make_trainer(model, run_dir, verbose=verbose)
        trainer.fit(self.train_fn(), self.eval_data("validation"),
                    epochs=self.config.train.epochs, resume=resume)
        best = os.path.join(run_dir, "best.keras")
        if trainer.best_weights is not None:  # every worker holds them, not only the chief
            model.set_weights(trainer.best_weights)
        elif os.path.exists(best):
            model.set_weights(models.load_model(best).get_weights())
        validation = trainer.evaluate(self.eval_data("validation"), exact=True)
        results = trainer.evaluate(self.eval_data("test"), exact=True)
        for task, splits in counts.items():
            results[task]["label_counts"] = splits
            results[task]["primary_metric"], results[task]["higher_is_better"] = self.primary[task]
        if self.is_chief:
            write_json(os.path.join(run_dir, "evaluation_validation.json"), validation)
            write_json(os.path.join(run_dir, "metrics.json"), results)
        return results


def primary_metrics(chosen, tasks):
    """{task: (metric, higher_is_better)} for each of `tasks`: `train.primary_metrics`
    (`chosen`), else the kind's default; a task or metric not among them is an error."""
    known = [t.name for t in tasks]
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"train.primary_metrics: unknown task(s) {unknown}; tasks: "
                         f"{', '.join(known)}")
    out = {}
    for task in tasks:
        metric = chosen.get(task.name)
        if metric is None:
            out[task.name] = task.primary_metric
            continue
        valid = ["loss"] + list(task.make_metrics())
        if metric not in valid:
            raise ValueError(f"train.primary_metrics.{task.name}: unknown metric {metric!r}; "
                             f"valid: {', '.join(valid)}")
        out[task.name] = (metric, task.metric_higher_is_better(metric))
    return out


def mark_auxiliary(tasks, names):
    """`tasks` with those named in `data.auxiliary_tasks` marked auxiliary."""
    known = [t.name for t in tasks]
    unknown = sorted(set(names or []) - set(known))
    if unknown:
        raise ValueError(f"data.auxiliary_tasks: {unknown} are not among the tasks trained "
                         f"({', '.join(known)}); add them to data.tasks")
    if names and set(names) == set(known):
        raise ValueError("data.auxiliary_tasks: every task is auxiliary; keep at least one "
                         "main task")
    return tuple(dataclasses.replace(t, auxiliary=True) if t.name in (names or []) else t
                 for t in tasks)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def metric_values(metrics):
    """The float metrics of one task's results (no counts, no nested entries)."""
    return {m: v for m, v in metrics.items() if isinstance(v, float)}


def format_table(results, columns=None, title=None):
    """Per-task metrics as an aligned text table."""
    lines = [title] if title else []
    for task, metrics in results.items():
        cells = "  ".join(f"{m}={v:.4f}" for m, v in metric_values(metrics).items())
        lines.append(f"  {task:<16} {cells}")
    return "\n".join(lines)
