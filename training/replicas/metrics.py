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
    """The metrics of `size` replicas of a model with `tasks`.

    One set of the trainer's metric objects, compiled once for one replica's slice (reset,
    update and read in one call) and run replica after replica: a graph unrolled over every
    replica took ~10 s to trace at S = 64 here, this one under a second whatever S is.
    """

    def __init__(self, tasks, size):
        self.tasks = tuple(tasks)
        self.size = size
        self.metrics = make_task_metrics(self.tasks)
        self._updates = {}  # one replica's argument specs -> the update compiled for them

    def _update_fn(self, labels, outputs, masks, means, counts):
        """Resets the metrics, feeds one replica's epoch or split, returns the results."""
        for tm in self.metrics.values():
            tm.reset()
        for i, task in enumerate(self.tasks):
            n = task.name
            self.metrics[n].update(labels[n], outputs[n], masks[n], loss=means[:, i],
                                   loss_weight=counts[:, i])
        return {n: {k: m.result() for k, m in tm.metrics.items()}
                for n, tm in self.metrics.items()}

    def _update_for(self, args):
        """The update compiled for one replica's arguments like `args`, for any number of
        examples and batches (a train epoch and each split share one trace)."""
        specs = tuple(tf.nest.map_structure(_spec, a) for a in args)
        key = repr(specs)
        if key not in self._updates:
            self._updates[key] = tf.function(self._update_fn, input_signature=specs)
        return self._updates[key]

    def results(self, labels, outputs, masks, means, counts):
        """[{task: {metric: value}}] per replica, from {task: [S, N, ...]} labels, outputs
        and masks and the batches' mean losses and label counts [batches, S, T]."""
        masks = {k: np.asarray(v, np.float32) for k, v in masks.items()}
        means, counts = np.asarray(means, np.float32), np.asarray(counts, np.float32)
        def replica(r):
            return tuple({k: v[r] for k, v in d.items()} for d in (labels, outputs, masks)) + (
                means[:, r], counts[:, r])

        update, out = self._update_for(replica(0)), []
        for r in range(self.size):
            values = update(*replica(r))
            out.append({n: {k: float(v) for k, v in m.items()} for n, m in values.items()})
        return out


def _spec(array):
    """TensorSpec of `array` with its first axis (examples, or batches) of any size."""
    return tf.TensorSpec((None,) + tuple(np.shape(array)[1:]), tf.as_dtype(array.dtype))
