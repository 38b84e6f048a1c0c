"""`regression`: a number, one linear unit and a squared-error loss.

The label is a float (NaN missing). With `target_mean`/`target_std`
(`with_label_statistics` on the training labels) the loss compares the logit with the
standardised label and the output layer maps the logit back (`logit * target_std +
target_mean`, in the graph), so a target in grams weighs in the total loss like one in
kilograms, while outputs, served answers and metrics stay in the label's own units.
Metrics: RMSE (ranking models, lower is better) and MAE; served: the value `<task>`; TF
Serving's regress signature.

Example:
>>> from tasks import Task
>>> spend = Task("spend", "regression").with_label_statistics([10.0, 30.0, float("nan")])
>>> spend.target_mean, spend.target_std, spend.metric_higher_is_better("rmse")
(20.0, 10.0, False)
"""

import dataclasses
import math

import numpy as np

from tasks.base import TaskKind
from tasks.cells import parse_number
from tasks.losses import labels_like
from tasks.metrics import update_streaming
from utils.arguments import Declaration
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")
keras = LazyModule("keras")


class RegressionTask(TaskKind):
    """A number: one linear unit, squared-error loss; label a float (NaN missing)."""

    label_shape = ()
    label_dtype = "float32"
    primary_metric = ("rmse", False)
    metric_names = ("rmse", "mae")
    signature_method = "regress"
    loss_options = Declaration()
    label_options = ()
    uncertainty_scale = 0.5  # a Gaussian likelihood: 0.5 exp(-s) L

    def check_classes(self, classes):
        if classes:
            raise ValueError(f"Task {self.name!r} (regression) takes no class names.")
        return classes

    def check_target_statistics(self):
        if self.target_mean is None or self.target_std is None:
            raise ValueError(f"Task {self.name!r}: give both target_mean and target_std, or "
                             "neither.")
        mean, std = float(self.target_mean), float(self.target_std)
        if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
            raise ValueError(f"Task {self.name!r}: target_mean must be finite and target_std "
                             f"finite and > 0; got {self.target_mean}, {self.target_std}")
        object.__setattr__(self, "target_mean", mean)
        object.__setattr__(self, "target_std", std)

    def with_label_statistics(self, labels, counts=None):
        labels = np.asarray(labels, np.float64).reshape(-1)
        counts = np.ones_like(labels) if counts is None else np.asarray(counts, np.float64)
        known = np.isfinite(labels)
        labels, counts = labels[known], counts[known]
        if counts.sum() <= 0:
            return self
        mean = float(np.average(labels, weights=counts))
        std = float(np.sqrt(np.average((labels - mean) ** 2, weights=counts)))
        # A constant target keeps unit scale (nothing to standardise).
        return dataclasses.replace(self, target_mean=mean,
                                   target_std=std if std > 0 and math.isfinite(std) else 1.0)

    @property
    def num_outputs(self):
        return 1

    def missing_label(self):
        return np.float32("nan")

    def encode_label(self, raw):
        raw = tf.cast(tf.reshape(raw, [1]), tf.float32)
        missing = tf.math.is_nan(raw)
        return tf.where(missing, tf.zeros_like(raw), raw), 1.0 - tf.cast(missing[0], tf.float32)

    def make_head(self):
        dense = keras.layers.Dense(1, name=f"{self.name}_logits", dtype="float32")
        if self.target_mean is None:
            return dense, keras.layers.Activation("linear", name=self.name, dtype="float32")
        return dense, keras.layers.Rescaling(scale=self.target_std, offset=self.target_mean,
                                             name=self.name, dtype="float32")

    def per_example_loss(self, y_true, logits, options=None):
        logits = tf.cast(logits, tf.float32)
        y = labels_like(y_true, logits)
        if self.target_mean is not None:
            y = (y - self.target_mean) / self.target_std
        return tf.reduce_mean(tf.square(logits - y), axis=-1)

    def make_metrics(self):
        return {"rmse": keras.metrics.RootMeanSquaredError(name=f"{self.name}_rmse"),
                "mae": keras.metrics.MeanAbsoluteError(name=f"{self.name}_mae")}

    def update_metrics(self, metrics, y_true, y_pred, mask):
        update_streaming(metrics, y_true, y_pred, mask)

    def exact_metrics(self, y_true, y_pred, mask):
        return {}  # RMSE and MAE stream exactly

    def metric_higher_is_better(self, metric):
        return metric not in ("loss", "rmse", "mae")

    def serving_outputs(self, y):
        return {self.name: tf.reshape(tf.cast(y, tf.float32), [-1])}

    def signature_outputs(self, y):
        return {"outputs": self.serving_outputs(y)[self.name]}

    def sample_labels(self, n, rng, lengths=None):
        y = rng.standard_normal((n, 1))
        if self.target_mean is not None:
            y = self.target_mean + self.target_std * y
        return y.astype(np.float32)

    def labels_from_scores(self, score):
        return score[:, 0].astype("float32")

    @classmethod
    def classes_from_text(cls, values, column, **options):
        return ()

    def labels_from_text(self, texts, where, **options):
        out = np.full(len(texts), np.nan, np.float32)
        for i, text in enumerate(texts):
            if text is None:
                continue
            value = parse_number(text)
            if value is None:
                raise ValueError(f"{where(i)}: regression label {text!r} is not a number")
            out[i] = value
        return out
