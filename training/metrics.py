"""Per-task metrics, chosen by the task's kind, counted on labelled examples only.

Each task's kind (`tasks/`) makes its metrics and feeds them:
binary: accuracy, AUC; multiclass: accuracy, top-k accuracy (k = 3 when the
task has more than 3 classes); multilabel: AUC, F1 (micro); regression: RMSE,
MAE. Every task also tracks its mean loss. The mask is passed as the sample
weight, so unlabelled examples never count.

Example:
>>> from tasks import Task
>>> from training.metrics import TaskMetrics
>>> m = TaskMetrics(Task("left", "multiclass", [str(d) for d in range(10)]))
>>> sorted(m.metrics)
['accuracy', 'loss', 'top_3_accuracy']
"""

import keras
import tensorflow as tf


class TaskMetrics:
    """The metrics of one task, updated with its mask as sample weight."""

    def __init__(self, task):
        self.task = task
        self.metrics = {"loss": keras.metrics.Mean(name=f"{task.name}_loss")}
        self.kind_metrics = task.make_metrics()
        self.metrics.update(self.kind_metrics)

    def update(self, y_true, y_pred, mask, loss=None, loss_weight=None):
        if loss is not None:
            self.metrics["loss"].update_state(loss, sample_weight=loss_weight)
        y_true, mask = self.task.align(y_true, tf.cast(mask, tf.float32), y_pred)
        self.task.update_metrics(self.kind_metrics, y_true, y_pred, mask)

    def result(self):
        return {name: float(m.result()) for name, m in self.metrics.items()}

    def reset(self):
        for m in self.metrics.values():
            m.reset_state()


def make_task_metrics(tasks):
    return {t.name: TaskMetrics(t) for t in tasks}
