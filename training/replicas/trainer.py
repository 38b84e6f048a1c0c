"""`ReplicaTrainer`: the epochs of S runs at once, each logged as its own `Trainer` would.

Each epoch every replica takes the steps its own run would (its own order of its own
training examples, the same batch boundaries), in one compiled step for all; then each
replica's train metrics (streamed over the epoch, as `Trainer` streams them) and
validation metrics are computed from the outputs of the whole epoch, its monitored
metric picks its best weights and its patience stops it. A replica that stopped, or
whose loss became non-finite, gets no more updates and no more epochs in its history;
the others go on. `state()` / `load_state()` hold everything needed to resume.

Example:
>>> trainer = ReplicaTrainer(stacked, setup, train, validation, seeds=[0, 1])  # doctest: +SKIP
>>> histories = trainer.fit(epochs=30)                                        # doctest: +SKIP
"""

import math
import resource
import time

import numpy as np
import tensorflow as tf

from training.replicas.data import epoch_orders, gather
from training.replicas.metrics import ReplicaMetrics


class ReplicaTrainer:
    """Trains the replicas of a `StackedModel`.

    Args:
        stacked: `StackedModel`.
        setup: `TrainSetup`. The runs' `train:` section (the same for every replica but
            the seed): optimizer, batch size, monitor, patience.
        train, validation: `training.replicas.data.Split`. Every replica's splits.
        seeds: list of int. Each replica's `train.seed` (its data order).
        shuffle_buffer: int. `data.shuffle_buffer` of the runs.
        verbose: int. 1: one line per epoch for the group.
    """

    def __init__(self, stacked, setup, train, validation, seeds, shuffle_buffer=10000,
                 verbose=1):
        self.stacked, self.setup = stacked, setup
        self.train, self.validation = train, validation
        self.seeds = list(seeds)
        self.shuffle_buffer = shuffle_buffer
        self.verbose = verbose
        self.batch_size = setup.config.batch_size
        self.monitor = setup.monitor
        self.patience = setup.config.early_stopping_patience
        self.optimizer = setup.make_optimizer()
        self.optimizer.build(stacked.variables)
        self.metrics = ReplicaMetrics(stacked.tasks, stacked.size)
        # One trace each for any batch size (the last batch is smaller): tracing S
        # replicas' step takes seconds.
        self._index_spec = tf.TensorSpec([stacked.size, None], tf.int32)
        self._step = tf.function(self._step_fn, input_signature=[
            self._index_spec, tf.TensorSpec([stacked.size], tf.float32)])
        self.splits, self._tensors, self._evals = {}, {}, {}
        self.add_split("train", train)
        self.add_split("validation", validation)
        size = stacked.size
        self.histories = [[] for _ in range(size)]
        self.best = [None] * size
        self.waited = [0] * size
        self.best_weights = [None] * size
        self.stopped = np.zeros(size, bool)
        self.failed = [None] * size     # the message of a replica whose loss became non-finite

    def add_split(self, name, split):
        """Makes `split` (a `Split`) known to `evaluate` under `name`."""
        self.splits[name] = split
        self._tensors[name] = split.tensors()
        self._evals[name] = tf.function(lambda index: self._eval_fn(index, name),
                                        input_signature=[self._index_spec])

    # ----------------------------------------------------------------- graphs
    def _step_fn(self, index, active):
        inputs, labels, masks = gather(self._tensors["train"], index, self.train.shared)
        return self.stacked.train_step(self.optimizer, inputs, labels, masks, active)

    def _eval_fn(self, index, name):
        inputs, labels, masks = gather(self._tensors[name], index, self.splits[name].shared)
        return self.stacked.losses(inputs, labels, masks, training=False)

    def check(self):
        """Traces the forward pass on one validation batch (raises where an op of the model
        has no vectorised form)."""
        n = min(self.batch_size, self.validation.size)
        self._evals["validation"](tf.constant(self._index(np.arange(n))))

    def _index(self, rows):
        return np.tile(np.asarray(rows, np.int32), (self.stacked.size, 1))

    # ----------------------------------------------------------------- epochs
    def fit(self, epochs, start=0, on_epoch_end=None):
        """Trains epochs `start`..`epochs`-1; `on_epoch_end(epoch)` after each (checkpoint
        and history writing). Returns the histories (a list of epoch logs per replica)."""
        for epoch in range(start, epochs):
            if self.stopped.all():
                break
            logs = self._train_epoch(epoch, first=epoch == start)
            validation = self.evaluate("validation")
            weights = self.stacked.all_weights()
            for r in np.flatnonzero(~self.stopped):
                logs[r]["validation"] = validation[r]
                logs[r]["val_loss"] = sum(v["loss"] for v in validation[r].values())
                self._end_epoch(r, logs[r], weights)
            if self.verbose:
                self._print(epoch, epochs, logs)
            if on_epoch_end is not None:
                on_epoch_end(epoch)
        return self.histories

    def _end_epoch(self, r, logs, weights):
        """Replica r's history, best weights and patience after an epoch."""
        self.histories[r].append(logs)
        value = self.monitor.value(logs)
        if self.monitor.improved(value, self.best[r]):
            self.best[r], self.waited[r] = value, 0
            self.best_weights[r] = self.stacked.replica_weights(r, weights)
        else:
            self.waited[r] += 1
        if self.patience and self.waited[r] >= self.patience:
            self.stopped[r] = True

    def _train_epoch(self, epoch, first=False):
        """One epoch of every replica still training; its logs per replica."""
        orders = epoch_orders(self.train.size, self.seeds, epoch,
                              self.shuffle_buffer).astype(np.int32)
        active = tf.constant((~self.stopped).astype(np.float32))
        sums, counts, outputs, times = [], [], [], []
        started = time.perf_counter()
        for begin in range(0, self.train.size, self.batch_size):
            tick = time.perf_counter()
            s, c, out = self._step(tf.constant(orders[:, begin:begin + self.batch_size]), active)
            sums.append(s.numpy())
            times.append(time.perf_counter() - tick)
            counts.append(c.numpy())
            outputs.append(out)
            self._check_finite(sums[-1], counts[-1], epoch, len(sums))
        if first:  # the first step traces the graph
            times = times[1:]
        elapsed = time.perf_counter() - started
        results = self._results(self.train, orders, np.stack(sums), np.stack(counts), outputs)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        weights = {t.name: float(w) for t, w in zip(self.stacked.tasks,
                                                    self.stacked.task_weights.numpy())}
        # One step of the graph serves every replica: each run is charged its share.
        share = 1000.0 * float(np.mean(times)) / self.stacked.size if times else None
        return [{"epoch": epoch + 1, "train": results[r], "weights": weights,
                 "step_time_ms": share, "epoch_time_s": elapsed / self.stacked.size,
                 "peak_memory_mb": peak} for r in range(self.stacked.size)]

    def _check_finite(self, sums, counts, epoch, step):
        losses = (sums / np.maximum(counts, 1.0)).sum(axis=1)
        for r in np.flatnonzero(~np.isfinite(losses) & ~self.stopped):
            self.failed[r] = (f"loss became {losses[r]} at epoch {epoch + 1}, step {step}; "
                              "training stopped (lower train.learning_rate or check the labels)")
            self.stopped[r] = True

    # ----------------------------------------------------------------- metrics
    def evaluate(self, name, exact=False):
        """[{task: {metric: value}}] per replica on a whole split `name` (file order, the
        batches `Trainer.evaluate` takes); `exact` adds the exact metrics and `labelled`."""
        split = self.splits[name]
        sums, counts, outputs, rows = [], [], [], np.arange(split.size)
        for begin in range(0, split.size, self.batch_size):
            index = self._index(rows[begin:begin + self.batch_size])
            s, c, out = self._evals[name](tf.constant(index))
            sums.append(s.numpy())
            counts.append(c.numpy())
            outputs.append(out)
        return self._results(split, self._index(rows), np.stack(sums), np.stack(counts),
                             outputs, exact)

    def _results(self, split, orders, sums, counts, outputs, exact=False):
        """Each replica's metrics from its batches' loss sums and counts [batches, S, T] and
        outputs, as the trainer's streaming metrics would give them."""
        means = sums / np.maximum(counts, 1.0)
        outputs = {k: np.concatenate([o[k].numpy() for o in outputs], axis=1)
                   for k in outputs[0]}
        labels, masks = split.ordered(orders)
        results = self.metrics.results(labels, outputs, masks, means, counts)
        if exact:
            for r, task in ((r, t) for r in range(self.stacked.size) for t in self.stacked.tasks):
                y, p, m = labels[task.name][r], outputs[task.name][r], masks[task.name][r]
                results[r][task.name].update(task.exact_metrics(y, p, m) if len(m) else {})
                results[r][task.name]["labelled"] = int(np.sum(m > 0))
        return results

    # ----------------------------------------------------------------- resume
    def state(self, epoch):
        """(arrays, json-able dict): everything `load_state` needs to go on after `epoch`."""
        stacked = self.stacked.all_weights()
        current = [self.stacked.replica_weights(r, stacked) for r in range(self.stacked.size)]
        best = [b if b is not None else c for b, c in zip(self.best_weights, current)]
        arrays = {f"w{k}": v for k, v in enumerate(stacked)}
        arrays.update({f"o{k}": v.numpy() for k, v in enumerate(self.optimizer.variables)})
        arrays.update({f"b{j}": np.stack([b[j] for b in best]) for j in range(len(best[0]))})
        info = {"epoch": epoch + 1, "histories": self.histories, "best": self.best,
                "waited": self.waited, "stopped": self.stopped.tolist(), "failed": self.failed,
                "has_best": [b is not None for b in self.best_weights]}
        return arrays, info

    def load_state(self, arrays, info):
        """Restores a `state()`; returns the epoch to continue from."""
        self.stacked.set_all_weights([arrays[f"w{k}"] for k in range(len(self.stacked.variables))])
        for k, v in enumerate(self.optimizer.variables):
            v.assign(arrays[f"o{k}"])
        count = len(self.stacked.variables)
        for r, has in enumerate(info["has_best"]):
            self.best_weights[r] = [arrays[f"b{j}"][r] for j in range(count)] if has else None
        self.histories, self.best = info["histories"], info["best"]
        self.waited, self.failed = info["waited"], info["failed"]
        self.stopped = np.array(info["stopped"], bool)
        return int(info["epoch"])

    def _print(self, epoch, epochs, logs):
        live = [r for r in range(self.stacked.size) if self.histories[r] and
                self.histories[r][-1]["epoch"] == epoch + 1]
        train = np.mean([sum(v["loss"] for v in logs[r]["train"].values()) for r in live]) \
            if live else math.nan
        val = np.mean([logs[r]["val_loss"] for r in live]) if live else math.nan
        print(f"Epoch {epoch + 1}/{epochs}: {len(live)} replicas, mean loss {train:.4f}, "
              f"mean val_loss {val:.4f}", flush=True)
