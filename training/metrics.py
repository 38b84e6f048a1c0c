"""Per-task metrics, chosen by the task's kind, counted on labelled examples only.

binary: accuracy, AUC; multiclass: accuracy, top-k accuracy (k = 3 when the
task has more than 3 classes); multilabel: AUC, F1 (micro); regression: RMSE,
MAE. Every task also tracks its mean loss. The mask is passed as the sample
weight, so unlabelled examples never count.

Example:
>>> from data.tasks import Task
>>> from training.metrics import TaskMetrics
>>> m = TaskMetrics(Task("left", "multiclass", [str(d) for d in range(10)]))
>>> sorted(m.metrics)
['accuracy', 'loss', 'top_3_accuracy']
"""

import keras
import tensorflow as tf


def metrics_for(task):
    """Dict metric name -> fresh Keras metric for one task."""
    if task.kind == "binary":
        return {"accuracy": keras.metrics.BinaryAccuracy(name=f"{task.name}_accuracy"),
                "auc": keras.metrics.AUC(name=f"{task.name}_auc")}
    if task.kind == "multiclass":
        out = {"accuracy": keras.metrics.SparseCategoricalAccuracy(name=f"{task.name}_accuracy")}
        if task.num_outputs > 3:
            out["top_3_accuracy"] = keras.metrics.SparseTopKCategoricalAccuracy(
                k=3, name=f"{task.name}_top_3_accuracy")
        return out
    if task.kind == "multilabel":
        return {"auc": keras.metrics.AUC(multi_label=True, num_labels=task.num_outputs,
                                         name=f"{task.name}_auc"),
                "f1": keras.metrics.F1Score(average="micro", threshold=0.5,
                                            name=f"{task.name}_f1")}
    return {"rmse": keras.metrics.RootMeanSquaredError(name=f"{task.name}_rmse"),
            "mae": keras.metrics.MeanAbsoluteError(name=f"{task.name}_mae")}


class TaskMetrics:
    """The metrics of one task, updated with its mask as sample weight."""

    def __init__(self, task):
        self.task = task
        self.metrics = {"loss": keras.metrics.Mean(name=f"{task.name}_loss")}
        self.metrics.update(metrics_for(task))

    def update(self, y_true, y_pred, mask, loss=None, loss_weight=None):
        mask = tf.cast(mask, tf.float32)
        for name, metric in self.metrics.items():
            if name == "loss":
                if loss is not None:
                    metric.update_state(loss, sample_weight=loss_weight)
                continue
            if self.task.kind in ("binary", "multilabel", "regression"):
                yt = tf.cast(tf.reshape(y_true, tf.shape(y_pred)), tf.float32)
            else:
                yt = y_true
            if self.task.kind == "multilabel" and name == "auc":
                # AUC(multi_label) wants one weight per label.
                weight = tf.broadcast_to(mask[:, None], tf.shape(y_pred))
            else:
                weight = mask
            metric.update_state(yt, y_pred, sample_weight=weight)

    def result(self):
        return {name: float(m.result()) for name, m in self.metrics.items()}

    def reset(self):
        for m in self.metrics.values():
            m.reset_state()


def make_task_metrics(tasks):
    return {t.name: TaskMetrics(t) for t in tasks}
