"""`ReplicaMetrics`: every replica's task metrics (`training.metrics.TaskMetrics`, the
trainer's own), fed a whole split or epoch at once in one compiled call.

Streaming metrics add up over examples (sums of losses, squared errors, counts,
confusion counts at thresholds), so feeding an epoch's outputs at once gives what the
trainer's batch-by-batch updates give; the mean loss is fed each batch's mean with its
label count as weight, as the trainer feeds it.

Example:
>>> import numpy as np
>>> from tasks import Task
>>> metrics = ReplicaMetrics([Task("y", "regression")], size=2)
>>> y = np.zeros((2, 4, 1), "float32"); p = np.ones((2, 4, 1), "float32")
>>> m = np.ones((2, 4), "float32")
>>> out = metrics.results({"y": y}, {"y": p}, {"y": m}, np.ones((1, 2, 1)), np.full((1, 2, 1), 4.0))
>>> out[1]["y"]["rmse"], out[1]["y"]["loss"]
(1.0, 1.0)
"""

import numpy as np
import tensorflow as tf

from training.metrics import make_task_metrics


class ReplicaMetrics:
    """The metrics of `size` replicas of a model with `tasks`."""

    def __init__(self, tasks, size):
        self.tasks = tuple(tasks)
        self.replicas = [make_task_metrics(self.tasks) for _ in range(size)]
        self._update = tf.function(self._update_fn, reduce_retracing=True)
        self._read = tf.function(self._read_fn)

    def _update_fn(self, labels, outputs, masks, means, counts):
        for r, metrics in enumerate(self.replicas):
            for i, task in enumerate(self.tasks):
                n = task.name
                metrics[n].update(labels[n][r], outputs[n][r], masks[n][r], loss=means[:, r, i],
                                  loss_weight=counts[:, r, i])

    def _read_fn(self):
        return [{n: {k: m.result() for k, m in tm.metrics.items()} for n, tm in metrics.items()}
                for metrics in self.replicas]

    def results(self, labels, outputs, masks, means, counts):
        """[{task: {metric: value}}] per replica, from {task: [S, N, ...]} labels, outputs
        and masks and the batches' mean losses and label counts [batches, S, T]."""
        for metrics in self.replicas:
            for tm in metrics.values():
                tm.reset()
        cast = {k: tf.constant(np.asarray(v, np.float32)) for k, v in masks.items()}
        self._update(labels, outputs, cast, tf.constant(means, tf.float32),
                     tf.constant(counts, tf.float32))
        return [{n: {k: float(v) for k, v in values.items()} for n, values in replica.items()}
                for replica in self._read()]
