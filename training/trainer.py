"""The trainer: one custom loop for one CPU, `MirroredStrategy` and multi-worker.

Keras 3 `fit` fails under `MultiWorkerMirroredStrategy` (keras-team/keras#20585),
so training runs its own loop around `strategy.run`. Each task's loss is the mean
over the labelled examples of the GLOBAL batch (label counts are all-reduced), so
one replica and several give the same loss; the weighting method combines task
losses; the optimizer sums replica gradients.

Per epoch it logs per-task metrics (console progress bar, TensorBoard), writes a
checkpoint (model, optimizer, epoch) and saves the best model as `best.keras`.

Example:
>>> from training.trainer import Trainer
>>> trainer = Trainer(model, tasks, run_dir="runs/x")             # doctest: +SKIP
>>> history = trainer.fit(lambda epoch: train_ds(epoch), val_ds, epochs=3)  # doctest: +SKIP
"""

import json
import math
import os

import keras
import tensorflow as tf

from models.losses import masked_loss_sum
from training.metrics import make_task_metrics
from training.weighting import make_weighting


class NonFiniteLossError(RuntimeError):
    pass


def make_optimizer(name, learning_rate):
    optimizers = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
                  "adamw": keras.optimizers.AdamW, "rmsprop": keras.optimizers.RMSprop}
    if name not in optimizers:
        raise ValueError(f"train.optimizer: unknown optimizer {name!r}; known: "
                         f"{', '.join(sorted(optimizers))}")
    return optimizers[name](learning_rate=learning_rate)


def _monitor_mode(monitor, mode):
    if mode in ("min", "max"):
        return mode
    return "max" if any(k in monitor for k in ("accuracy", "auc", "f1")) else "min"


class Trainer:
    """Trains a multi-task model with masked per-task losses.

    Args:
        model: `MultiTaskModel` (built under `strategy.scope()` when a strategy is used).
        tasks: tuple of `Task`. The tasks trained (the model's outputs).
        run_dir: str or None. Where checkpoints, logs and `best.keras` go.
        optimizer: a Keras optimizer (created under the strategy scope), or None for Adam.
        weighting: str. A registered weighting method.
        weighting_args: dict. Its arguments.
        task_weights: dict. Static task weights.
        strategy: `tf.distribute.Strategy` or None (the default strategy).
        monitor: str. `val_loss` or `val_<task>_<metric>`: picks the best checkpoint.
        monitor_mode: str. `min`, `max` or `auto`.
        early_stopping_patience: int. Epochs without improvement before stopping; 0 = off.
        is_chief: bool. Only the chief writes files (multi-worker).
    """

    def __init__(self, model, tasks, run_dir=None, optimizer=None, weighting="equal",
                 weighting_args=None, task_weights=None, strategy=None, monitor="val_loss",
                 monitor_mode="auto", early_stopping_patience=0, is_chief=True, verbose=1):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.model = model
        self.tasks = tuple(tasks)
        self.run_dir = run_dir
        self.is_chief = is_chief
        self.verbose = verbose
        self.monitor = monitor
        self.monitor_mode = _monitor_mode(monitor, monitor_mode)
        self.patience = int(early_stopping_patience or 0)
        with self.strategy.scope():
            self.optimizer = optimizer or keras.optimizers.Adam(1e-3)
            self.weighting = make_weighting(weighting, self.tasks, task_weights,
                                            **(weighting_args or {}))
            self.train_metrics = make_task_metrics(self.tasks)
            self.eval_metrics = make_task_metrics(self.tasks)
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self._train_fn = None
        self._eval_fn = None
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=self.optimizer,
                                              epoch=self.epoch)
        self.manager = None
        if run_dir:
            ckpt_dir = os.path.join(run_dir, "checkpoints")
            if not is_chief:  # other workers write to a scratch dir that is thrown away
                ckpt_dir = os.path.join(run_dir, f".worker_tmp_{os.getpid()}")
            self.manager = tf.train.CheckpointManager(self.checkpoint, ckpt_dir, max_to_keep=2)

    # ----------------------------------------------------------------- steps
    def _task_losses(self, labels, outputs, masks):
        ctx = tf.distribute.get_replica_context()
        losses = {}
        for task in self.tasks:
            total, count = masked_loss_sum(task, labels[task.name], outputs[task.name],
                                           masks[task.name])
            if ctx is not None and ctx.num_replicas_in_sync > 1:
                count = ctx.all_reduce(tf.distribute.ReduceOp.SUM, count)
            losses[task.name] = total / tf.maximum(count, 1.0)
        return losses

    def _train_replica_step(self, inputs, labels, masks):
        with tf.GradientTape() as tape:
            outputs = self.model(inputs, training=True)
            task_losses = self._task_losses(labels, outputs, masks)
            total, weights = self.weighting.combine(task_losses)
            if self.model.losses:
                total += tf.add_n(self.model.losses) / self.strategy.num_replicas_in_sync
        variables = self.model.trainable_variables
        grads = tape.gradient(total, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        for task in self.tasks:
            n = task.name
            self.train_metrics[n].update(labels[n], outputs[n], masks[n], task_losses[n],
                                         tf.reduce_sum(masks[n]))
        return total, weights

    def _eval_replica_step(self, inputs, labels, masks):
        outputs = self.model(inputs, training=False)
        task_losses = self._task_losses(labels, outputs, masks)
        for task in self.tasks:
            n = task.name
            self.eval_metrics[n].update(labels[n], outputs[n], masks[n], task_losses[n],
                                        tf.reduce_sum(masks[n]))
        return tf.add_n(list(task_losses.values()))

    def train_step(self, batch):
        """One optimisation step on a (distributed) batch; returns (loss, weights)."""
        if self._train_fn is None:
            @tf.function
            def fn(batch):
                loss, weights = self.strategy.run(self._train_replica_step, args=batch)
                loss = self.strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
                weights = {k: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
                           for k, v in weights.items()}
                return loss, weights
            self._train_fn = fn
        return self._train_fn(batch)

    def _eval_step(self, batch):
        if self._eval_fn is None:
            @tf.function
            def fn(batch):
                return self.strategy.run(self._eval_replica_step, args=batch)
            self._eval_fn = fn
        return self._eval_fn(batch)

    # ----------------------------------------------------------------- loops
    def _distribute(self, ds):
        if self.strategy.num_replicas_in_sync > 1 or isinstance(
                self.strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return self.strategy.experimental_distribute_dataset(ds)
        return ds

    def evaluate(self, ds):
        """{task: {metric: value}} on a dataset of (inputs, labels, masks) batches."""
        for m in self.eval_metrics.values():
            m.reset()
        for batch in self._distribute(ds):
            self._eval_step(batch)
        return {n: m.result() for n, m in self.eval_metrics.items()}

    @staticmethod
    def total_loss(results):
        return sum(r["loss"] for r in results.values())

    def restore(self):
        """Restores the latest checkpoint; returns the epoch to continue from (0 if none)."""
        if self.manager is None or self.manager.latest_checkpoint is None:
            return 0
        self.checkpoint.restore(self.manager.latest_checkpoint)
        return int(self.epoch.numpy())

    def fit(self, train_ds_fn, val_ds=None, epochs=1, resume=False):
        """Trains for `epochs` epochs; `train_ds_fn(epoch)` gives that epoch's batches.

        Returns the history: a list of per-epoch logs.
        """
        start = self.restore() if resume else 0
        history = self._load_history() if resume else []
        history = history[:start]
        best = self._best_from(history)
        writers = self._writers()
        waited = 0
        for epoch in range(start, epochs):
            for m in self.train_metrics.values():
                m.reset()
            if self.verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            ds = train_ds_fn(epoch)
            steps = int(ds.cardinality()) if int(ds.cardinality()) > 0 else None
            bar = keras.utils.Progbar(steps, verbose=self.verbose, stateful_metrics=None)
            weights = {}
            for step, batch in enumerate(self._distribute(ds)):
                loss, weights = self.train_step(batch)
                loss = float(loss)
                if not math.isfinite(loss):
                    raise NonFiniteLossError(
                        f"loss became {loss} at epoch {epoch + 1}, step {step + 1}; stopped. "
                        f"The last good checkpoint is kept in {self.run_dir}/checkpoints "
                        "(lower train.learning_rate, or check the labels).")
                bar.update(step + 1, [("loss", loss)] +
                           [(f"{n}_loss", float(self.train_metrics[n].metrics["loss"].result()))
                            for n in self.train_metrics])
            logs = {"epoch": epoch + 1,
                    "train": {n: m.result() for n, m in self.train_metrics.items()},
                    "weights": {k: float(v) for k, v in weights.items()}}
            if val_ds is not None:
                logs["validation"] = self.evaluate(val_ds)
                logs["val_loss"] = self.total_loss(logs["validation"])
            history.append(logs)
            self._log(writers, logs)
            self.epoch.assign(epoch + 1)
            improved = self._improved(logs, best)
            if improved:
                best = self._monitored(logs)
                waited = 0
                self._save_best()
            else:
                waited += 1
            if self.manager is not None:
                self.manager.save(checkpoint_number=epoch + 1)
            self._save_history(history)
            if self.verbose:
                self._print_epoch(logs)
            if self.patience and waited >= self.patience:
                if self.verbose:
                    print(f"Early stopping: {self.monitor} did not improve for {waited} epochs.")
                break
        return history

    # ------------------------------------------------------------- bookkeeping
    def _monitored(self, logs):
        if self.monitor == "val_loss":
            return logs.get("val_loss")
        if self.monitor == "loss":
            return sum(r["loss"] for r in logs["train"].values())
        prefix, rest = self.monitor.split("_", 1) if "_" in self.monitor else ("", self.monitor)
        source = logs.get("validation") if prefix == "val" else logs["train"]
        for task in self.tasks:
            if rest.startswith(task.name + "_"):
                metric = rest[len(task.name) + 1:]
                if source and metric in source[task.name]:
                    return source[task.name][metric]
        valid = ["val_loss"] + [f"val_{n}_{m}" for n, ms in self.eval_metrics.items() for m in ms.metrics]
        raise ValueError(f"train.monitor: unknown metric {self.monitor!r}; valid: {', '.join(valid)}")

    def _best_from(self, history):
        values = [self._monitored(h) for h in history if self._monitored(h) is not None]
        if not values:
            return None
        return min(values) if self.monitor_mode == "min" else max(values)

    def _improved(self, logs, best):
        value = self._monitored(logs)
        if value is None:
            return True
        if best is None:
            return True
        return value < best if self.monitor_mode == "min" else value > best

    def _save_best(self):
        if self.run_dir and self.is_chief:
            tmp = os.path.join(self.run_dir, "best.tmp.keras")
            self.model.save(tmp)
            os.replace(tmp, os.path.join(self.run_dir, "best.keras"))

    def _history_path(self):
        return os.path.join(self.run_dir, "history.json") if self.run_dir else None

    def _save_history(self, history):
        if self.run_dir and self.is_chief:
            with open(self._history_path(), "w") as f:
                json.dump(history, f, indent=1)

    def _load_history(self):
        path = self._history_path()
        if path and os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        return []

    def _writers(self):
        if not (self.run_dir and self.is_chief):
            return {}
        return {split: tf.summary.create_file_writer(os.path.join(self.run_dir, "logs", split))
                for split in ("train", "validation")}

    def _log(self, writers, logs):
        if not writers:
            return
        step = logs["epoch"]
        for split in ("train", "validation"):
            if split not in logs:
                continue
            with writers[split].as_default():
                for task, results in logs[split].items():
                    for metric, value in results.items():
                        tf.summary.scalar(f"{task}/{metric}", value, step=step)
                if split == "train":
                    for task, w in logs.get("weights", {}).items():
                        tf.summary.scalar(f"weights/{task}", w, step=step)
            writers[split].flush()

    def _print_epoch(self, logs):
        parts = []
        for split, prefix in (("train", ""), ("validation", "val_")):
            for task, results in logs.get(split, {}).items():
                parts += [f"{prefix}{task}_{m}={v:.4f}" for m, v in results.items()]
        print("  " + "  ".join(parts))
