"""From a config to data, model and trainer: the glue shared by the entry scripts.

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
from models.encoders import check_encoder_args
from models.registry import check_architecture_args
from tasks import select_tasks
from training.config import save_config
from training.optimizers import OPTIMIZERS, make_optimizer
from training.trainer import GRADIENT_ON, Trainer
from training.weighting import WEIGHTINGS, make_weighting


class Experiment:
    """A resolved config: the dataset spec, the selected tasks and the data dir."""

    def __init__(self, config, strategy=None, is_chief=True):
        self.config = config
        self.is_chief = is_chief
        self.check_names(config)
        dc = config["data"]
        self.spec = data.get_dataset(dc["name"], **(dc["options"] or {}))
        self.tasks = mark_auxiliary(select_tasks(self.spec.tasks, dc["tasks"], dc["name"]),
                                    dc["auxiliary_tasks"])
        self.data_dir = dc["data_dir"] or pipeline.default_data_dir()
        self.strategy = strategy or tf.distribute.get_strategy()
        self.validate()

    @staticmethod
    def check_names(config):
        """The model and train names and arguments that need no dataset, checked first."""
        mc, tc = config["model"], config["train"]
        check_architecture_args(mc["architecture"], mc["args"] or {})
        check_encoder_args(mc["encoder"], mc["encoder_args"] or {})
        OPTIMIZERS.get(tc["optimizer"])
        method = WEIGHTINGS.get(tc["weighting"])
        if tc["gradient_on"] is not None and not method.uses_gradients:
            users = [n for n, c in WEIGHTINGS.items() if c.uses_gradients]
            raise ValueError(f"train.gradient_on: {tc['weighting']!r} does not use per-task "
                             f"gradients, so it ignores this key; methods that do: "
                             f"{', '.join(users)}")

    def validate(self):
        """Checks every name and argument of the model and train sections against the
        dataset's tasks before any work, so a typo fails at once, naming the key and the
        valid values (ValueError)."""
        tc = self.config["train"]
        make_weighting(tc["weighting"], self.tasks, tc["task_weights"], **(tc["weighting_args"] or {}))
        valid = self.monitor_names()
        if tc["monitor"] not in valid:
            raise ValueError(f"train.monitor: unknown metric {tc['monitor']!r}; valid: "
                             f"{', '.join(valid)}")
        self.primary_metrics()  # checks train.primary_metrics
        options = tc["loss_options"] or {}
        unknown = sorted(set(options) - {t.name for t in self.tasks})
        if unknown:
            raise ValueError(f"train.loss_options: unknown task(s) {unknown}; tasks: "
                             f"{', '.join(t.name for t in self.tasks)}")
        for task in self.tasks:
            if task.name in options:
                task.check_loss_options(options[task.name])

    def primary_metrics(self, tasks=None):
        """{task: (metric, higher_is_better)}: `train.primary_metrics`, else each kind's default."""
        chosen = dict(self.config["train"]["primary_metrics"] or {})
        tasks = tasks or self.tasks
        names = [t.name for t in tasks]
        unknown = sorted(set(chosen) - {t.name for t in self.spec.tasks})
        if unknown:
            raise ValueError(f"train.primary_metrics: unknown task(s) {unknown}; tasks: "
                             f"{', '.join(names)}")
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

    def monitor_names(self, tasks=None):
        """Every value `train.monitor` may name for `tasks`."""
        names = ["val_loss", "loss"]
        for task in tasks or self.tasks:
            metrics = ["loss"] + list(task.make_metrics())
            names += [f"val_{task.name}_{m}" for m in metrics]
            names += [f"train_{task.name}_{m}" for m in metrics]
        return names

    # ------------------------------------------------------------------ data
    def prepare(self):
        pipeline.prepare(self.spec, self.data_dir)

    def examples(self, split, tasks=None):
        dc = self.config["data"]
        take = dc["max_train_examples"] if split == "train" else dc["max_eval_examples"]
        return pipeline.load_examples(self.spec, split, tasks or self.tasks, self.data_dir, take=take)

    def train_fn(self, tasks=None, batch_size=None):
        """`epoch -> batches`: a seeded shuffle per epoch, so a resumed run sees the same order."""
        tc, dc = self.config["train"], self.config["data"]
        base = self.examples("train", tasks)
        size = batch_size or tc["batch_size"]

        def fn(epoch):
            return pipeline.batch(base, size, shuffle_seed=tc["seed"] + epoch,
                                  shuffle_buffer=dc["shuffle_buffer"])
        return fn

    def eval_data(self, split, tasks=None, batch_size=None):
        return pipeline.batch(self.examples(split, tasks),
                              batch_size or self.config["train"]["batch_size"])

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
        mc = self.config["model"]
        keras.utils.set_random_seed(self.config["train"]["seed"])
        return models.MultiTaskModel(
            tasks=[t.to_config() for t in (tasks or self.tasks)],
            inputs=[i.to_config() for i in self.spec.inputs],
            architecture=architecture or mc["architecture"], encoder=mc["encoder"],
            encoder_args=mc["encoder_args"], args=mc["args"])

    def make_trainer(self, model, run_dir, tasks=None, is_chief=True, verbose=1, weighting=None):
        """The config's trainer for `model`; `weighting="equal"` for one that only evaluates."""
        tc = self.config["train"]
        with self.strategy.scope():
            optimizer = make_optimizer(tc["optimizer"], tc["learning_rate"])
        return Trainer(model, tasks or self.tasks, run_dir=run_dir, optimizer=optimizer,
                       weighting=weighting or tc["weighting"],
                       weighting_args={} if weighting else tc["weighting_args"],
                       task_weights={} if weighting else tc["task_weights"], strategy=self.strategy,
                       monitor=tc["monitor"], monitor_mode=tc["monitor_mode"],
                       early_stopping_patience=tc["early_stopping_patience"],
                       gradient_on=tc["gradient_on"] or GRADIENT_ON[0],
                       is_chief=is_chief and self.is_chief,
                       verbose=verbose, diagnostics=None if weighting else self.diagnostics(),
                       loss_options={t.name: o for t, o in (
                           (t, (tc["loss_options"] or {}).get(t.name)) for t in (tasks or self.tasks))
                           if o})

    def diagnostics(self):
        """Arguments of `training.diagnostics.Diagnostics` from the config; None when off."""
        tc = self.config["train"]
        if not (tc["diagnostics_per_epoch"] or tc["affinity_per_epoch"] or tc["gate_diagnostics"]):
            return None
        return {"gradients_per_epoch": tc["diagnostics_per_epoch"],
                "affinity_per_epoch": tc["affinity_per_epoch"], "gates": tc["gate_diagnostics"]}

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
                    epochs=self.config["train"]["epochs"], resume=resume)
        best = os.path.join(run_dir, "best.keras")
        if trainer.best_weights is not None:  # every worker holds them, not only the chief
            model.set_weights(trainer.best_weights)
        elif os.path.exists(best):
            model.set_weights(models.load_model(best).get_weights())
        validation = trainer.evaluate(self.eval_data("validation"), exact=True)
        results = trainer.evaluate(self.eval_data("test"), exact=True)
        primary = self.primary_metrics()
        for task, splits in counts.items():
            results[task]["label_counts"] = splits
            results[task]["primary_metric"], results[task]["higher_is_better"] = primary[task]
        if self.is_chief:
            write_json(os.path.join(run_dir, "evaluation_validation.json"), validation)
            write_json(os.path.join(run_dir, "metrics.json"), results)
        return results


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
