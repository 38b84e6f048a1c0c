"""The trainer: one custom loop for one CPU, `MirroredStrategy` and multi-worker.

Keras 3 `fit` fails under `MultiWorkerMirroredStrategy` (keras-team/keras#20585),
so training runs its own loop around `strategy.run`. Each task's loss is the sum
over the replica's labelled examples divided by the label count of the GLOBAL
batch (counts are all-reduced), so the replicas' losses and gradients add up to
those of one device on the whole batch; the optimizer sums replica gradients.

Losses are computed from each head's logits (`MultiTaskModel.training_view`);
metrics from its outputs. A weighting method (`training/weighting/`) turns the
task losses into gradients (`Weighting.gradients`): the trainer only records the
forward pass and applies what the method returns. Methods that need per-task
gradients get them on the shared part of the model (`training/sharing.py`),
either the shared representation (`gradient_on="representation"`: one backward
pass through the heads per task, then one full backward pass) or the shared
parameters (`gradient_on="parameters"`: one full backward pass per task).

Per epoch it logs per-task metrics and the mean task weights (console progress
bar, TensorBoard, `history.json`), writes a checkpoint (model, optimizer,
weighting state, epoch) and saves the best model as `best.keras`. A non-finite
loss stops training with `NonFiniteLossError`; the last checkpoint stays.

Example:
>>> from training.config import TrainConfig
>>> from training.trainer import Trainer
>>> trainer = Trainer(model, tasks, TrainConfig(weighting="pcgrad"), run_dir="runs/x")  # doctest: +SKIP
>>> history = trainer.fit(lambda epoch: train_ds(epoch), val_ds, epochs=3)  # doctest: +SKIP
"""

import json
import math
import os
import resource
import shutil
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from models.losses import masked_loss_sum
from training.config import TrainConfig
from training.metrics import make_task_metrics
from training.setup import TrainSetup
from training.sharing import find_shared
from training.weighting import Step, StepInfo


class NonFiniteLossError(RuntimeError):
    pass


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read; the message names it and the one before."""


def latest_checkpoint(run_dir):
    """Path prefix of the run dir's last checkpoint, or None."""
    return tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints")) if run_dir else None


def concatenate_batches(arrays):
    """Batches joined along axis 0; batches padded to different lengths (the tokens of
    sentences) are first zero-padded to the longest, where their masks are 0."""
    if not arrays:
        return np.zeros(0)
    widest = np.max([a.shape for a in arrays], axis=0)
    return np.concatenate([np.pad(a, [(0, 0)] + [(0, w - d) for d, w in
                                                 zip(a.shape[1:], widest[1:])])
                           for a in arrays])


class Trainer:
    """Trains a multi-task model with masked per-task losses.

    Args:
        model: `MultiTaskModel` (built under `strategy.scope()` when a strategy is used).
        tasks: tuple of `Task`. The tasks trained (the model's outputs).
        config: `TrainConfig`, or the `TrainSetup` resolved from one for `tasks` (what
            `Experiment` passes); default `TrainConfig()`. Gives the weighting method,
            the optimizer, the monitored metric, early stopping, loss options and
            diagnostics.
        strategy: `tf.distribute.Strategy` or None (the default strategy).
        run_dir: str or None. Where checkpoints, logs and `best.keras` go.
        is_chief: bool. Only the chief writes files (multi-worker).
        verbose: int. 0 silent, 1 progress bar and epoch summaries.
        optimizer: a Keras optimizer (created under the strategy scope) instead of the
            one the config names.
    """

    def __init__(self, model, tasks, config=None, *, strategy=None, run_dir=None, is_chief=True,
                 verbose=1, optimizer=None):
        self.tasks = tuple(tasks)
        setup = config if isinstance(config, TrainSetup) else TrainSetup.resolve(
            config or TrainConfig(), self.tasks)
        if [t.name for t in setup.tasks] != [t.name for t in self.tasks]:
            raise ValueError(f"Trainer: the setup was resolved for tasks "
                             f"{[t.name for t in setup.tasks]}, not {[t.name for t in self.tasks]}")
        self.setup = setup
        self.strategy = strategy or tf.distribute.get_strategy()
        self.model = model
        self.run_dir = run_dir
        self.is_chief = is_chief
        self.verbose = verbose
        self.monitor = setup.monitor
        self.patience = setup.config.early_stopping_patience
        self.gradient_on = setup.gradient_on
        self.loss_options = setup.loss_options
        with self.strategy.scope():
            self.optimizer = optimizer or setup.make_optimizer()
            self.weighting = setup.make_weighting()
            self.train_metrics = make_task_metrics(self.tasks)
            self.eval_metrics = make_task_metrics(self.tasks)
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
            # Built here, not lazily in the first step: variables created inside a
            # distributed tf.function fail under MirroredStrategy.
            self.optimizer.build(model.trainable_variables + self.weighting.variables_to_train)
        self._build_views()
        self.diagnostics = None
        if setup.diagnostics() is not None:
            from training.diagnostics import Diagnostics
            self.diagnostics = Diagnostics(self, **setup.diagnostics())
        self.best_weights = None  # the best epoch's weights, once one is seen in this process
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=self.optimizer,
                                              epoch=self.epoch, weighting=self.weighting)
        self._make_checkpoint_manager()

    def _build_views(self):
        """The shared part (for methods that need per-task gradients) and the forward pass
        that returns the shared representation when they take gradients there."""
        self.shared = None
        representation = ()
        if self.weighting.uses_gradients:
            self.shared = find_shared(self.model)
            if self.gradient_on == "representation":
                representation = self.shared.representation
        self._forward = self.model.training_view(representation)
        self._train_fn = None
        self._eval_fn = None

    def _make_checkpoint_manager(self):
        self.manager = None
        self._scratch = None
        if self.run_dir:
            ckpt_dir = os.path.join(self.run_dir, "checkpoints")
            if not self.is_chief:
                # Every worker must take part in saving; the others write to scratch space.
                self._scratch = tempfile.mkdtemp(prefix="mtl_worker_ckpt_")
                self.restore_dir = ckpt_dir
                ckpt_dir = self._scratch
            self.manager = tf.train.CheckpointManager(self.checkpoint, ckpt_dir, max_to_keep=2)

    # ----------------------------------------------------------------- losses
    def _task_losses(self, labels, logits, masks):
        """Per task: the loss share of this replica [T], its local mean and label count."""
        ctx = tf.distribute.get_replica_context()
        sums, counts = zip(*(masked_loss_sum(t, labels[t.name], logits[t.name], masks[t.name],
                                             self.loss_options.get(t.name))
                             for t in self.tasks))
        sums, counts = tf.stack(sums), tf.stack(counts)
        global_counts = counts
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            global_counts = ctx.all_reduce(tf.distribute.ReduceOp.SUM, counts)
        return sums / tf.maximum(global_counts, 1.0), sums / tf.maximum(counts, 1.0), counts

    @staticmethod
    def _all_reduce(value):
        ctx = tf.distribute.get_replica_context()
        if ctx is None or ctx.num_replicas_in_sync == 1:
            return value
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, value)

    # ----------------------------------------------------------------- steps
    def _train_replica_step(self, inputs, labels, masks):
        method = self.weighting
        with tf.GradientTape(persistent=method.uses_gradients) as tape:
            outputs, logits, reps = self._forward(inputs, training=True)
            losses, local_means, counts = self._task_losses(labels, logits, masks)
            loss_list = tf.unstack(losses)  # recorded, for per-task gradients
            extra = self._forward.losses
            n_rep = self.strategy.num_replicas_in_sync
            reg = tf.add_n(extra) / n_rep if extra else None
        info = StepInfo(losses=self._all_reduce(tf.stop_gradient(losses)),
                        step=tf.convert_to_tensor(self.optimizer.iterations), num_replicas=n_rep)
        rep_mode = method.uses_gradients and self.gradient_on == "representation"
        step = Step(tape=tape, losses=losses, loss_list=loss_list,
                    variables=self.model.trainable_variables + method.variables_to_train,
                    info=info, regularizer=reg, representation=reps if rep_mode else None,
                    shared_variables=self.shared.variables if self.shared else None,
                    all_reduce=self._all_reduce)
        grads, weights, total = method.gradients(step)
        del tape
        self.optimizer.apply_gradients([(g, v) for g, v in zip(grads, step.variables)
                                        if g is not None])
        if getattr(method, "needs_losses_after_update", False):
            # FAMO: the same batch's losses after the step steer the method's own state.
            _, new_logits, _ = self._forward(inputs, training=False)
            method.after_update(self._all_reduce(self._task_losses(labels, new_logits, masks)[0]))
        for i, task in enumerate(self.tasks):
            n = task.name
            self.train_metrics[n].update(labels[n], outputs[n], masks[n], local_means[i], counts[i])
        return total, weights

    def _eval_replica_step(self, inputs, labels, masks):
        outputs, logits, _ = self._forward(inputs, training=False)
        losses, local_means, counts = self._task_losses(labels, logits, masks)
        for i, task in enumerate(self.tasks):
            n = task.name
            self.eval_metrics[n].update(labels[n], outputs[n], masks[n], local_means[i], counts[i])
        aligned = {t.name: t.align(labels[t.name], masks[t.name], outputs[t.name])
                   for t in self.tasks}  # for the exact metrics of the whole split
        return ({n: a[0] for n, a in aligned.items()}, outputs,
                {n: a[1] for n, a in aligned.items()})

    def train_step(self, batch):
        """One optimisation step on a (distributed) batch; returns (loss, weights [T])."""
        if self._train_fn is None:
            # Relaxed shapes: batches of sentences differ in length; one trace, not one each.
            @tf.function(reduce_retracing=True)
            def fn(batch):
                loss, weights = self.strategy.run(self._train_replica_step, args=batch)
                loss = self.strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
                # Identical on every replica; MEAN just picks the value.
                weights = self.strategy.reduce(tf.distribute.ReduceOp.MEAN, weights, axis=None)
                return loss, weights
            self._train_fn = fn
        return self._train_fn(batch)

    def _eval_step(self, batch):
        if self._eval_fn is None:
            # Relaxed shapes: batches of sentences differ in length; one trace, not one each.
            @tf.function(reduce_retracing=True)
            def fn(batch):
                values = self.strategy.run(self._eval_replica_step, args=batch)
                if self.strategy.num_replicas_in_sync > 1:
                    values = tf.nest.map_structure(lambda v: self.strategy.gather(v, axis=0),
                                                   values)
                return values
            self._eval_fn = fn
        return self._eval_fn(batch)

    # ----------------------------------------------------------------- loops
    def _distribute(self, ds):
        if self.strategy.num_replicas_in_sync > 1 or isinstance(
                self.strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return self.strategy.experimental_distribute_dataset(ds)
        return ds

    def evaluate(self, ds, exact=False):
        """{task: {metric: value}} on a dataset of (inputs, labels, masks) batches.

        With `exact`, metrics that streaming only approximates (AUC) are computed exactly
        from the whole split's predictions (`task.exact_metrics`), and each task also
        reports `labelled`, the number of examples that carried its label."""
        for m in self.eval_metrics.values():
            m.reset()
        kept = {t.name: ([], [], []) for t in self.tasks}
        for batch in self._distribute(ds):
            labels, outputs, masks = self._eval_step(batch)
            if exact:
                for n, (ys, ps, ms) in kept.items():
                    ys.append(labels[n].numpy())
                    ps.append(outputs[n].numpy())
                    ms.append(masks[n].numpy())
        results = {n: m.result() for n, m in self.eval_metrics.items()}
        if exact:
            for task in self.tasks:
                ys, ps, ms = (concatenate_batches(v) for v in kept[task.name])
                if len(ms):
                    results[task.name].update(task.exact_metrics(ys, ps, ms))
                results[task.name]["labelled"] = int(np.sum(ms > 0)) if len(ms) else 0
        return results

    @staticmethod
    def total_loss(results):
        return sum(r["loss"] for r in results.values())

    def restore(self):
        """Restores the latest checkpoint; returns the epoch to continue from (0 if none)."""
        if self.manager is None:
            return 0
        latest = self.manager.latest_checkpoint
        if latest is None and self._scratch is not None:
            latest = tf.train.latest_checkpoint(self.restore_dir)  # the chief's (shared disk)
        if latest is None:
            return 0
        try:
            self.checkpoint.restore(latest)
        except (tf.errors.OpError, ValueError, IndexError) as e:  # what a truncated file raises
            older = [p for p in self.manager.checkpoints if p != latest] if self.manager else []
            hint = (f"; the previous one is {older[-1]}: delete {latest}.* (and its line in "
                    f"{os.path.dirname(latest)}/checkpoint) to resume from it" if older else
                    "; there is no earlier checkpoint: train again without --resume")
            raise CheckpointError(f"checkpoint {latest} is unreadable "
                                  f"({type(e).__name__}: {str(e).splitlines()[0][:200]}){hint}") from None
        return int(self.epoch.numpy())

    def fit(self, train_ds_fn, val_ds=None, epochs=1, resume=False, epoch_logs=None):
        """Trains for `epochs` epochs; `train_ds_fn(epoch)` gives that epoch's batches.

        With `resume`, continues after the run dir's last checkpoint (epoch k+1 sees
        the batches `train_ds_fn(k)` gives, as an uninterrupted run would).
        `epoch_logs(epoch)`, when given, adds entries to that epoch's logs once its
        batches are drawn (a mixture's realised `sampling` proportions).
        Returns the history: a list of per-epoch logs.
        """
        start = self.restore() if resume else 0
        history = (self._load_history() if resume else [])[:start]
        best, waited = self._best_so_far(history)
        if self.patience and waited >= self.patience:
            # Stopped early before it was killed (after its last checkpoint, before its
            # test metrics): an uninterrupted run trained no further epoch, nor does this.
            return history
        writers = self._writers()
        try:
            for epoch in range(start, epochs):
                if self.verbose:
                    print(f"Epoch {epoch + 1}/{epochs}")
                logs = self._train_epoch(epoch, train_ds_fn(epoch), first=epoch == start)
                logs.update(epoch_logs(epoch) if epoch_logs is not None else {})
                self._evaluate_epoch(logs, val_ds)
                history.append(logs)
                self._log(writers, logs)
                best, waited = self._end_epoch(logs, history, best, waited)
                if self.patience and waited >= self.patience:
                    if self.verbose:
                        print(f"Early stopping: {self.monitor.name} did not improve for "
                              f"{waited} epochs.")
                    break
        finally:
            if self._scratch:
                shutil.rmtree(self._scratch, ignore_errors=True)
        return history

    def _train_epoch(self, epoch, ds, first):
        """One pass over `ds`; returns the epoch's logs (train metrics, mean weights, times)."""
        for m in self.train_metrics.values():
            m.reset()
        names = [t.name for t in self.tasks]
        steps = int(ds.cardinality()) if int(ds.cardinality()) > 0 else None
        # A live bar on a terminal; one line per epoch in logs (CI, files).
        bar = keras.utils.Progbar(
            steps, verbose=(1 if sys.stdout.isatty() else 2) if self.verbose else 0)
        weight_sum, nsteps = np.zeros(len(names)), 0
        step_times, epoch_start = [], time.perf_counter()
        for step, batch in enumerate(self._distribute(ds)):
            started = time.perf_counter()
            loss, weights = self.train_step(batch)
            loss = float(loss)
            if not (first and step == 0):  # the run's first step traces the graph
                step_times.append(time.perf_counter() - started)
            self._check_finite(loss, epoch, step)
            weight_sum += weights.numpy()
            nsteps += 1
            if self.diagnostics is not None:
                self.diagnostics.on_step(epoch + 1, step, steps, batch)
            bar.update(step + 1, [("loss", loss)] + [
                (f"{n}_loss", float(self.train_metrics[n].metrics["loss"].result()))
                for n in names])
        train = {n: m.result() for n, m in self.train_metrics.items()}
        self.weighting.on_epoch_end(np.array([train[n]["loss"] for n in names], np.float32))
        return {"epoch": epoch + 1, "train": train,
                "weights": {n: float(w) for n, w in zip(names, weight_sum / max(nsteps, 1))},
                "step_time_ms": 1000.0 * float(np.mean(step_times)) if step_times else None,
                "epoch_time_s": time.perf_counter() - epoch_start,
                "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}

    def _check_finite(self, loss, epoch, step):
        if not math.isfinite(loss):
            raise NonFiniteLossError(
                f"loss became {loss} at epoch {epoch + 1}, step {step + 1}; training "
                f"stopped. The last good checkpoint (epoch {epoch}) is kept in "
                f"{os.path.join(self.run_dir or '.', 'checkpoints')}; resume from it "
                "with --resume after lowering train.learning_rate or checking the labels.")

    def _evaluate_epoch(self, logs, val_ds):
        """Adds the validation metrics and the diagnostics' summary to an epoch's logs."""
        if val_ds is not None:
            logs["validation"] = self.evaluate(val_ds)
            logs["val_loss"] = self.total_loss(logs["validation"])
        if self.diagnostics is not None and self.diagnostics.active:
            logs["diagnostics"] = self.diagnostics.epoch_summary(val_ds)

    def _end_epoch(self, logs, history, best, waited):
        """Saves the best model, the checkpoint and the history; returns (best, waited)."""
        self.epoch.assign(logs["epoch"])
        value = self.monitor.value(logs)
        if self.monitor.improved(value, best):
            best, waited = value, 0
            self._save_best()
        else:
            waited += 1
        if self.manager is not None:
            self.manager.save(checkpoint_number=logs["epoch"])
        self._save_history(history)
        if self.verbose:
            self._print_epoch(logs)
        return best, waited

    # ------------------------------------------------------------- bookkeeping
    def _best_so_far(self, history):
        """(best monitored value, epochs since it) over a resumed run's history, so its
        early stopping counts on."""
        best, waited = None, 0
        for logs in history:
            value = self.monitor.value(logs)
            if self.monitor.improved(value, best):
                best, waited = value, 0
            else:
                waited += 1
        return best, waited

    def _save_best(self):
        self.best_weights = self.model.get_weights()
        if self.run_dir and self.is_chief:
            tmp = os.path.join(self.run_dir, "best.tmp.keras")
            self.model.save(tmp)
            os.replace(tmp, os.path.join(self.run_dir, "best.keras"))

    def _history_path(self):
        return os.path.join(self.run_dir, "history.json") if self.run_dir else None

    def _save_history(self, history):
        if self.run_dir and self.is_chief:
            tmp = self._history_path() + ".tmp"
            with open(tmp, "w") as f:
                json.dump(history, f, indent=1)
            os.replace(tmp, self._history_path())

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
                    if "diagnostics" in logs:
                        from training.diagnostics import scalars
                        for tag, value in scalars(logs["diagnostics"]).items():
                            tf.summary.scalar(tag, value, step=step)
            writers[split].flush()

    def _print_epoch(self, logs):
        """One line per task: its train and validation metrics, and the weight it got."""
        weights = logs.get("weights", {})
        for task in self.tasks:
            cells = [f"{m}={v:.4f}" for m, v in logs["train"][task.name].items()]
            if "validation" in logs:
                cells += [f"val_{m}={v:.4f}" for m, v in logs["validation"][task.name].items()]
            if task.name in weights:
                cells.append(f"weight={weights[task.name]:.3f}")
            print(f"  {task.name:<14} " + "  ".join(cells))
        if logs.get("sampling"):
            print("  sampled from: " + ", ".join(f"{source} {share:.1%}"
                                                for source, share in logs["sampling"].items()))
