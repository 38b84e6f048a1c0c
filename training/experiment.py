"""From a config to data, model and trainer: the glue shared by the entry scripts.

Example:
>>> from training.config import load_config
>>> from training.experiment import Experiment
>>> exp = Experiment(load_config("configs/tiny.yaml"))        # doctest: +SKIP
>>> results = exp.train("runs/tiny")                          # doctest: +SKIP
"""

import json
import os

import keras
import tensorflow as tf

import data
import models
from data import pipeline
from data.tasks import select_tasks
from models.encoders import check_encoder_args
from models.registry import check_architecture_args
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
        self.tasks = select_tasks(self.spec.tasks, dc["tasks"], dc["name"])
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
                       verbose=verbose)

    # ----------------------------------------------------------------- train
    def train(self, run_dir, resume=False, verbose=1):
        """Trains, evaluates the best model on the test split, writes `metrics.json`.

        Only the chief writes files; every worker runs the same steps.
        """
        if self.is_chief:
            os.makedirs(run_dir, exist_ok=True)
            save_config(self.config, os.path.join(run_dir, "config.yaml"))
        self.prepare()
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
        results = trainer.evaluate(self.eval_data("test"))
        if self.is_chief:
            write_json(os.path.join(run_dir, "metrics.json"), results)
        return results


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def format_table(results, columns=None, title=None):
    """Per-task metrics as an aligned text table."""
    lines = [title] if title else []
    for task, metrics in results.items():
        cells = "  ".join(f"{m}={v:.4f}" for m, v in metrics.items())
        lines.append(f"  {task:<16} {cells}")
    return "\n".join(lines)
