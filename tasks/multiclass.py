"""`multiclass`: one of N, a softmax over the classes.

The label is a class index (-1 missing). Loss: softmax cross-entropy (`class_weights`,
`focal_gamma`); metrics: accuracy (ranking models) and, with more than 3 classes, top-3
accuracy; served: the probabilities `<task>`, the class id `<task>_class` and its name
`<task>_label`; TF Serving's classify signature. A CSV label column's classes are its
distinct cells (numbers in numeric order).

Example:
>>> from tasks import Task
>>> task = Task("left", "multiclass", classes=tuple(str(d) for d in range(10)))
>>> type(task).__name__, task.num_outputs, task.metric_names
('MulticlassTask', 10, ('accuracy', 'top_3_accuracy'))
"""

import numpy as np

from tasks.cells import sort_classes
from tasks.classes import ClassTask
from tasks.losses import SOFTMAX_OPTIONS, softmax_loss
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")
keras = LazyModule("keras")


class MulticlassTask(ClassTask):
    """One of N: softmax over the classes; label a class index (-1 missing)."""

    activation = "softmax"
    primary_metric = ("accuracy", True)
    signature_method = "classify"
    loss_options = SOFTMAX_OPTIONS

    @property
    def num_outputs(self):
        return len(self.classes)

    @property
    def metric_names(self):
        return ("accuracy", "top_3_accuracy") if self.num_outputs > 3 else ("accuracy",)

    def encode_label(self, raw):
        raw = tf.cast(raw, tf.int64)
        return tf.maximum(raw, 0), tf.cast(raw >= 0, tf.float32)

    def per_example_loss(self, y_true, logits, options=None):
        return softmax_loss(y_true, logits, options)

    def make_metrics(self):
        out = {"accuracy": keras.metrics.SparseCategoricalAccuracy(name=f"{self.name}_accuracy")}
        if self.num_outputs > 3:
            out["top_3_accuracy"] = keras.metrics.SparseTopKCategoricalAccuracy(
                k=3, name=f"{self.name}_top_3_accuracy")
        return out

    def update_metrics(self, metrics, y_true, y_pred, mask):
        for metric in metrics.values():
            metric.update_state(y_true, y_pred, sample_weight=mask)

    def exact_metrics(self, y_true, y_pred, mask):
        return {}  # accuracy streams exactly

    def serving_outputs(self, y):
        y = tf.cast(y, tf.float32)
        index = tf.argmax(y, axis=-1, output_type=tf.int64)
        return {self.name: y, f"{self.name}_class": index,
                f"{self.name}_label": self.class_names(index)}

    def sample_labels(self, n, rng, lengths=None):
        return rng.integers(0, len(self.classes), n).astype(np.int64)

    def labels_from_scores(self, score):
        return score[:, :len(self.classes)].argmax(1).astype("int64")

    @classmethod
    def classes_from_text(cls, values, column, **options):
        classes = sort_classes(set(values))
        if len(classes) < 2:
            raise ValueError(f"data.options.labels.{column}: a multiclass label needs at least 2 "
                             f"classes; found {list(classes)}")
        return classes

    def labels_from_text(self, texts, where, **options):
        return self.index_labels(lambda text: text, texts, where)
