"""`multilabel`: any of N, one sigmoid per label.

The label is a 0/1 vector (a row with any -1 is missing). Loss: sigmoid cross-entropy
averaged over the labels (`pos_weight` per label, `focal_gamma`); metrics: AUC (exact
macro AUC on whole splits) and micro F1 at 0.5, F1 ranking models; served: the
probabilities `<task>`. No TF Serving classify signature (it answers one class list per
example). A CSV label cell lists its labels with a separator (`a|b`), `none` for none.

Example:
>>> from tasks import Task
>>> task = Task("present", "multilabel", ("circle", "square"))
>>> task.label_shape, task.labels_from_text(["circle|square", "none", None], str)
((2,), array([[ 1,  1],
       [ 0,  0],
       [-1, -1]]))
"""

import numpy as np

from tasks.cells import sort_classes
from tasks.classes import ClassTask
from tasks.losses import SIGMOID_OPTIONS, labels_like, sigmoid_loss
from utils.lazy import LazyModule
from utils.ranking import macro_roc_auc

tf = LazyModule("tensorflow")
keras = LazyModule("keras")


class MultilabelTask(ClassTask):
    """Any of N: one sigmoid per label; label a 0/1 vector (a row with any -1 is missing)."""

    activation = "sigmoid"
    primary_metric = ("f1", True)
    metric_names = ("auc", "f1")
    signature_method = None  # TF Serving's classify answers one class list per example
    loss_options = SIGMOID_OPTIONS

    @property
    def num_outputs(self):
        return len(self.classes)

    @property
    def label_shape(self):
        return (len(self.classes),)

    def missing_label(self):
        return np.full(len(self.classes), -1, np.int64)

    def encode_label(self, raw):
        raw = tf.cast(raw, tf.float32)
        return tf.maximum(raw, 0.0), tf.cast(tf.reduce_all(raw >= 0), tf.float32)

    def per_example_loss(self, y_true, logits, options=None):
        return sigmoid_loss(y_true, logits, options)

    def make_metrics(self):
        return {"auc": keras.metrics.AUC(multi_label=True, num_labels=self.num_outputs,
                                         name=f"{self.name}_auc"),
                "f1": keras.metrics.F1Score(average="micro", threshold=0.5,
                                            name=f"{self.name}_f1")}

    def update_metrics(self, metrics, y_true, y_pred, mask):
        y_true = labels_like(y_true, y_pred)
        # AUC(multi_label) wants one weight per label.
        per_label = tf.broadcast_to(tf.cast(mask, tf.float32)[:, None], tf.shape(y_pred))
        for name, metric in metrics.items():
            metric.update_state(y_true, y_pred, sample_weight=per_label if name == "auc" else mask)

    def exact_metrics(self, y_true, y_pred, mask):
        y_true = np.asarray(y_true).reshape(np.shape(y_pred))
        return {"auc": macro_roc_auc(y_true, y_pred, mask)}

    def serving_outputs(self, y):
        return {self.name: tf.cast(y, "float32")}

    def sample_labels(self, n, rng, lengths=None):
        return rng.integers(0, 2, (n, len(self.classes))).astype(np.float32)

    def labels_from_scores(self, score):
        return (score[:, :len(self.classes)] > 0).astype("int64")

    @classmethod
    def classes_from_text(cls, values, column, **options):
        separator, none = options.get("separator", "|"), options.get("none", "none")
        names = set()
        for v in values:
            if v != none:
                names.update(p.strip() for p in v.split(separator) if p.strip())
        classes = sort_classes(names)
        if len(classes) < 2:
            raise ValueError(f"data.options.labels.{column}: a multilabel label needs at least 2 "
                             f"classes; found {list(classes)}")
        return classes

    def labels_from_text(self, texts, where, **options):
        separator, none = options.get("separator", "|"), options.get("none", "none")
        index = {c: i for i, c in enumerate(self.classes)}
        out = np.zeros((len(texts), len(self.classes)), np.int64)
        for i, text in enumerate(texts):
            if text is None:
                out[i] = -1
                continue
            if text == none:
                continue
            for name in (p.strip() for p in text.split(separator) if p.strip()):
                if name not in index:
                    raise ValueError(f"{where(i)}: unknown label {name!r}; classes: "
                                     f"{', '.join(self.classes)}")
                out[i, index[name]] = 1
        return out
