"""`binary`: yes/no, one sigmoid unit.

The label is 0/1 (-1 missing); `classes` are the (negative, positive) names, `("no",
"yes")` by default. Loss: sigmoid cross-entropy (`pos_weight`, `focal_gamma`); metrics:
accuracy and AUC (exact AUC on whole splits), AUC ranking models; served: the
probability `<task>` and the class name `<task>_label`; TF Serving's classify signature.

A CSV label column is read as (negative, positive) from its cells: numbers 0/1, known
word pairs (false/true, no/yes, n/y, f/t, any case), or any two values in sorted order;
with `positive: [cells]` the label is derived from another column (those cells are
positive, the others negative).

Example:
>>> from tasks import Task
>>> task = Task("smiling", "binary", classes=("0", "1"))
>>> task.num_outputs, task.primary_metric, task.signature_method
(1, ('auc', True), 'classify')
>>> task.labels_from_text(["1", None, "0.0"], where=lambda i: f"row {i}")
array([ 1, -1,  0])
"""

import numpy as np

from tasks.cells import parse_number
from tasks.classes import ClassTask
from tasks.losses import SIGMOID_OPTIONS, sigmoid_loss
from tasks.metrics import update_streaming
from utils.lazy import LazyModule
from utils.ranking import roc_auc

tf = LazyModule("tensorflow")
keras = LazyModule("keras")


class BinaryTask(ClassTask):
    """Yes/no: one sigmoid unit; label 0/1 (-1 missing); classes are (negative, positive)."""

    activation = "sigmoid"
    primary_metric = ("auc", True)
    metric_names = ("accuracy", "auc")
    signature_method = "classify"
    loss_options = SIGMOID_OPTIONS
    # A label derived from another column: the cells in `positive` are the positive class.
    label_options = ("positive",)
    # Cell values read as (negative, positive) without being told.
    KNOWN_PAIRS = (("0", "1"), ("false", "true"), ("no", "yes"), ("n", "y"), ("f", "t"))

    def check_classes(self, classes):
        classes = classes or ("no", "yes")
        if len(classes) != 2:
            raise ValueError(f"Task {self.name!r} (binary) needs exactly 2 class names.")
        return super().check_classes(classes)

    @property
    def num_outputs(self):
        return 1

    def encode_label(self, raw):
        raw = tf.cast(tf.reshape(raw, [1]), tf.float32)
        return tf.maximum(raw, 0.0), tf.cast(raw[0] >= 0, tf.float32)

    def per_example_loss(self, y_true, logits, options=None):
        return sigmoid_loss(y_true, logits, options)

    def make_metrics(self):
        return {"accuracy": keras.metrics.BinaryAccuracy(name=f"{self.name}_accuracy"),
                "auc": keras.metrics.AUC(name=f"{self.name}_auc")}

    def update_metrics(self, metrics, y_true, y_pred, mask):
        update_streaming(metrics, y_true, y_pred, mask)

    def exact_metrics(self, y_true, y_pred, mask):
        return {"auc": roc_auc(y_true, y_pred, mask)}

    def serving_outputs(self, y):
        p = tf.reshape(tf.cast(y, tf.float32), [-1])
        return {self.name: p, f"{self.name}_label": self.class_names(tf.cast(p >= 0.5, tf.int32))}

    def class_scores(self, y):
        p = tf.reshape(tf.cast(y, tf.float32), [-1])
        return tf.stack([1.0 - p, p], axis=-1)

    def sample_labels(self, n, rng, lengths=None):
        return rng.integers(0, 2, (n, 1)).astype(np.float32)

    def labels_from_scores(self, score):
        return (score[:, 0] > 0).astype("int64")

    @classmethod
    def canonical(cls, text):
        """Numbers as "0"/"1", known words lower-cased, anything else as it is."""
        number = parse_number(text)
        if number is not None and number in (0.0, 1.0):
            return str(int(number))
        known = {v for pair in cls.KNOWN_PAIRS for v in pair}
        return text.lower() if text.lower() in known else text

    @classmethod
    def classes_from_text(cls, values, column, **options):
        positive = options.get("positive")
        if positive is not None:
            positive, seen = {str(p) for p in positive}, set(values)
            if not seen & positive or seen <= positive:
                raise ValueError(
                    f"data.options.labels.{column}.positive: {sorted(positive)} must match some "
                    f"but not all values of the column; its values: {sorted(seen)[:10]}")
            return ("no", "yes")
        seen = {cls.canonical(v) for v in values}
        for pair in cls.KNOWN_PAIRS:
            if seen <= set(pair):
                return pair
        if len(seen) != 2:
            raise ValueError(f"data.options.labels.{column}: a binary label needs 2 distinct "
                             f"values; found {len(seen)}: {sorted(seen)[:10]} (use multiclass, or "
                             "give classes: [negative, positive])")
        return tuple(sorted(seen))

    def labels_from_text(self, texts, where, **options):
        positive = options.get("positive")
        if positive is not None:
            positive = {str(p) for p in positive}
            return np.array([-1 if t is None else int(t in positive) for t in texts], np.int64)
        return self.index_labels(self.canonical, texts, where)
