"""Task kinds: one class per kind, owning everything that depends on the kind.

A kind class is a subclass of `data.tasks.Task`; `Task(name, kind, ...)` returns
an instance of the registered class, so a task object knows:

- its classes (`check_classes`) and head width (`num_outputs`);
- how its label is stored (`label_shape`, `label_dtype`, `missing_label()`) and
  turned into a clean label plus a 0/1 mask (`encode_label`);
- its head (`make_head`: a Dense layer `<task>_logits`, then the output layer
  `<task>` giving probabilities or values) and its loss, computed from the
  logits (numerically stable; `per_example_loss`);
- its metrics (`make_metrics`, `update_metrics`; streaming, per epoch), the exact
  values of those that have one, computed on whole arrays for final test metrics
  (`exact_metrics`: the exact ROC AUC), and the metric that ranks models
  (`primary_metric`; `metric_higher_is_better` for any of its metrics);
- its serving outputs (`serving_outputs`: probabilities or values, plus `<task>_class`
  and the class name `<task>_label` where the kind has classes) and TF Serving
  signature (`signature_method`: classify, regress or none; `signature_outputs`);
- its target statistics, where it has any (`with_label_statistics`: a regression
  task standardises its targets for the loss and de-standardises its output);
- labels for tests and synthetic data (`sample_labels`, `labels_from_scores`),
  and how label cells of a CSV file become stored labels
  (`classes_from_text`, `labels_from_text`; `label_options` names the extra
  options a CSV label declaration may give the kind, e.g. binary's `positive`).

TensorFlow and Keras are imported inside the methods that need them, so this
module (and `data.tasks`) import without TensorFlow.

Adding a kind is one class here plus its registry line, e.g. a count target:

    @TASK_KINDS.register("count")
    class CountTask(RegressionTask):
        def per_example_loss(self, y_true, logits):   # Poisson loss on log-rates
            ...

Example:
>>> from data.tasks import Task
>>> task = Task("smiling", "binary", classes=("0", "1"))
>>> task.num_outputs, task.primary_metric, task.signature_method
(1, ('auc', True), 'classify')
>>> task.labels_from_text(["1", None, "0.0"], where=lambda i: f"row {i}")
array([ 1, -1,  0])
>>> spend = Task("spend", "regression").with_label_statistics([10.0, 30.0, float("nan")])
>>> spend.target_mean, spend.target_std
(20.0, 10.0)
"""

import dataclasses
import math

import numpy as np

from data.tasks import TASK_KINDS, Task
from utils.arguments import Arg, Declaration, check


def _tf():
    import tensorflow as tf
    return tf


def _keras():
    import keras
    return keras


def parse_number(text):
    """A finite float, or None when `text` is not one."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def sort_classes(values):
    """Numeric-looking classes in numeric order ("2" < "10"), else alphabetical."""
    if all(parse_number(v) is not None for v in values):
        return tuple(sorted(values, key=lambda v: (parse_number(v), v)))
    return tuple(sorted(values))


def _like(y_true, y):
    """Labels as float32 shaped like the predictions (or logits) `y`."""
    tf = _tf()
    return tf.cast(tf.reshape(y_true, tf.shape(y)), tf.float32)


def sigmoid_loss(y_true, logits, options=None):
    """Sigmoid cross-entropy from logits, averaged over the labels of each example.

    `options` (`train.loss_options` of the task): `pos_weight` (a number, or one per
    label) multiplies the positive term, `focal_gamma` > 0 multiplies each term by
    `(1 - p_t)^gamma` (the focal loss of Lin et al., ICCV 2017) to focus on hard
    examples."""
    tf = _tf()
    options = options or {}
    logits = tf.cast(logits, tf.float32)
    y = _like(y_true, logits)
    if options.get("pos_weight") is not None:
        loss = tf.nn.weighted_cross_entropy_with_logits(
            y, logits, tf.constant(options["pos_weight"], tf.float32))
    else:
        loss = tf.nn.sigmoid_cross_entropy_with_logits(y, logits)
    if options.get("focal_gamma"):
        p = tf.sigmoid(logits)
        p_true = y * p + (1.0 - y) * (1.0 - p)
        loss *= tf.pow(1.0 - p_true, float(options["focal_gamma"]))
    return tf.reduce_mean(loss, axis=-1)


class _OneUnit:
    """Shared by kinds with one output unit per example (binary, regression)."""

    def update_metrics(self, metrics, y_true, y_pred, mask):
        y_true = _like(y_true, y_pred)
        for metric in metrics.values():
            metric.update_state(y_true, y_pred, sample_weight=mask)

    def serving_outputs(self, y):
        tf = _tf()
        return {self.name: tf.reshape(tf.cast(y, tf.float32), [-1])}


class _KindBase(Task):
    """Defaults every kind shares."""

    # Options a CSV label declaration may pass to `classes_from_text`/`labels_from_text`.
    label_options = ()

    def with_label_statistics(self, labels, counts=None):
        """This task fitted to its training labels (an array as `labels_from_text` returns
        them, each row counted `counts[i]` times): kinds with target statistics return a
        copy holding them; the others return the task itself."""
        return self

    def exact_metrics(self, y_true, y_pred, mask):
        """{metric: exact value} from whole numpy arrays, for metrics the streaming ones
        only approximate; {} when there are none."""
        return {}

    @staticmethod
    def metric_higher_is_better(metric):
        return metric not in ("loss", "rmse", "mae")

    # `train.loss_options` a kind's loss takes (imbalance: pos_weight, class_weights,
    # focal_gamma), declared (`python train.py --list <kind>`); none by default.
    loss_options = Declaration()

    def check_loss_options(self, options):
        """Raises ValueError naming the key when `options` do not fit this task."""
        where = f"train.loss_options.{self.name}"
        check(self.loss_options, options, where, what=f"a {self.kind} task")
        for key in ("class_weights", "pos_weight"):
            value = options.get(key)
            if isinstance(value, (list, tuple)) and len(value) != self.num_outputs:
                raise ValueError(f"{where}.{key}: {len(value)} values; valid: "
                                 f"{self.num_outputs} (one per class)")

    # Kendall et al.'s likelihood scale of the loss in uncertainty weighting:
    # exp(-s) L for a classification (softmax/sigmoid) likelihood, 0.5 exp(-s) L for a
    # Gaussian one (RegressionTask).
    uncertainty_scale = 1.0


class _ClassTask(_KindBase):
    """Shared by kinds whose labels are class indices."""

    label_shape = ()
    label_dtype = "int64"
    min_classes = 2

    def check_classes(self, classes):
        if len(classes) < self.min_classes:
            raise ValueError(f"Task {self.name!r} ({self.kind}) needs at least "
                             f"{self.min_classes} class names.")
        if len(set(classes)) != len(classes):
            raise ValueError(f"Task {self.name!r}: duplicate class names in {list(classes)}")
        return classes

    def missing_label(self):
        return np.int64(-1)

    def make_head(self):
        keras = _keras()
        return (keras.layers.Dense(self.num_outputs, name=f"{self.name}_logits", dtype="float32"),
                keras.layers.Activation(self.activation, name=self.name, dtype="float32"))

    def _index_labels(self, canonical, texts, where):
        index = {c: i for i, c in enumerate(self.classes)}
        out = np.full(len(texts), -1, np.int64)
        for i, text in enumerate(texts):
            if text is None:
                continue
            value = canonical(text)
            if value not in index:
                raise ValueError(f"{where(i)}: unknown class {text!r}; classes: "
                                 f"{', '.join(self.classes)}")
            out[i] = index[value]
        return out

    def class_names(self, indices):
        """Class indices -> their names (a string tensor): the `<task>_label` output."""
        tf = _tf()
        return tf.gather(tf.constant(list(self.classes)), indices)

    def signature_outputs(self, y):
        tf = _tf()
        scores = self.class_scores(y)
        classes = tf.tile(tf.constant([list(self.classes)]), [tf.shape(scores)[0], 1])
        return {"classes": classes, "scores": scores}


@TASK_KINDS.register("binary")
class BinaryTask(_OneUnit, _ClassTask):
    """Yes/no: one sigmoid unit; label 0/1 (-1 missing); classes are (negative, positive)."""

    activation = "sigmoid"
    primary_metric = ("auc", True)
    signature_method = "classify"
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
        tf = _tf()
        raw = tf.cast(tf.reshape(raw, [1]), tf.float32)
        return tf.maximum(raw, 0.0), tf.cast(raw[0] >= 0, tf.float32)

    loss_options = Declaration({
        "pos_weight": Arg((float, list), "multiplies the positive term (a number, or one per "
                          "label)", item=float, range="[0, inf)", null=True, default=None),
        "focal_gamma": Arg(float, "the focal loss's gamma: (1 - p_t)^gamma focuses on hard "
                           "examples (0: plain)", range="[0, inf)", null=True, default=None)})

    def per_example_loss(self, y_true, logits, options=None):
        return sigmoid_loss(y_true, logits, options)

    def serving_outputs(self, y):
        tf = _tf()
        p = tf.reshape(tf.cast(y, tf.float32), [-1])
        return {self.name: p, f"{self.name}_label": self.class_names(tf.cast(p >= 0.5, tf.int32))}

    def make_metrics(self):
        keras = _keras()
        return {"accuracy": keras.metrics.BinaryAccuracy(name=f"{self.name}_accuracy"),
                "auc": keras.metrics.AUC(name=f"{self.name}_auc")}

    def class_scores(self, y):
        tf = _tf()
        p = tf.reshape(tf.cast(y, tf.float32), [-1])
        return tf.stack([1.0 - p, p], axis=-1)

    def exact_metrics(self, y_true, y_pred, mask):
        from utils.ranking import roc_auc
        return {"auc": roc_auc(y_true, y_pred, mask)}

    def sample_labels(self, n, rng):
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
    def classes_from_text(cls, values, column, positive=None, **options):
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

    def labels_from_text(self, texts, where, positive=None, **options):
        if positive is not None:
            positive = {str(p) for p in positive}
            return np.array([-1 if t is None else int(t in positive) for t in texts], np.int64)
        return self._index_labels(self.canonical, texts, where)


@TASK_KINDS.register("multiclass")
class MulticlassTask(_ClassTask):
    """One of N: softmax over the classes; label a class index (-1 missing)."""

    activation = "softmax"
    primary_metric = ("accuracy", True)
    signature_method = "classify"

    @property
    def num_outputs(self):
        return len(self.classes)

    def encode_label(self, raw):
        tf = _tf()
        raw = tf.cast(raw, tf.int64)
        return tf.maximum(raw, 0), tf.cast(raw >= 0, tf.float32)

    loss_options = Declaration({
        "class_weights": Arg(list, "one weight per class, multiplying its examples' loss",
                             item=float, range="[0, inf)", null=True, default=None),
        "focal_gamma": Arg(float, "the focal loss's gamma: (1 - p_t)^gamma focuses on hard "
                           "examples (0: plain)", range="[0, inf)", null=True, default=None)})

    def per_example_loss(self, y_true, logits, options=None):
        """Softmax cross-entropy; `class_weights` (one per class) multiplies each example's
        loss by its class's weight, `focal_gamma` by `(1 - p_true)^gamma`."""
        tf = _tf()
        options = options or {}
        logits = tf.cast(logits, tf.float32)
        # One label per row of logits: [batch], or [batch, tokens] for token tasks.
        labels = tf.cast(tf.reshape(y_true, tf.shape(logits)[:-1]), tf.int32)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        if options.get("focal_gamma"):
            p_true = tf.exp(-loss)
            loss *= tf.pow(1.0 - p_true, float(options["focal_gamma"]))
        if options.get("class_weights") is not None:
            loss *= tf.gather(tf.constant(options["class_weights"], tf.float32), labels)
        return loss

    def make_metrics(self):
        keras = _keras()
        out = {"accuracy": keras.metrics.SparseCategoricalAccuracy(name=f"{self.name}_accuracy")}
        if self.num_outputs > 3:
            out["top_3_accuracy"] = keras.metrics.SparseTopKCategoricalAccuracy(
                k=3, name=f"{self.name}_top_3_accuracy")
        return out

    def update_metrics(self, metrics, y_true, y_pred, mask):
        for metric in metrics.values():
            metric.update_state(y_true, y_pred, sample_weight=mask)

    def serving_outputs(self, y):
        tf = _tf()
        y = tf.cast(y, tf.float32)
        index = tf.argmax(y, axis=-1, output_type=tf.int64)
        return {self.name: y, f"{self.name}_class": index,
                f"{self.name}_label": self.class_names(index)}

    def class_scores(self, y):
        return _tf().cast(y, "float32")

    def sample_labels(self, n, rng):
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
        return self._index_labels(lambda text: text, texts, where)


@TASK_KINDS.register("multilabel")
class MultilabelTask(_ClassTask):
    """Any of N: one sigmoid per label; label a 0/1 vector (a row with any -1 is missing)."""

    activation = "sigmoid"
    primary_metric = ("f1", True)
    signature_method = None  # TF Serving's classify answers one class list per example

    @property
    def num_outputs(self):
        return len(self.classes)

    @property
    def label_shape(self):
        return (len(self.classes),)

    def missing_label(self):
        return np.full(len(self.classes), -1, np.int64)

    def encode_label(self, raw):
        tf = _tf()
        raw = tf.cast(raw, tf.float32)
        return tf.maximum(raw, 0.0), tf.cast(tf.reduce_all(raw >= 0), tf.float32)

    loss_options = Declaration({
        "pos_weight": Arg((float, list), "multiplies the positive term (a number, or one per "
                          "label)", item=float, range="[0, inf)", null=True, default=None),
        "focal_gamma": Arg(float, "the focal loss's gamma: (1 - p_t)^gamma focuses on hard "
                           "examples (0: plain)", range="[0, inf)", null=True, default=None)})

    def per_example_loss(self, y_true, logits, options=None):
        return sigmoid_loss(y_true, logits, options)

    def make_metrics(self):
        keras = _keras()
        return {"auc": keras.metrics.AUC(multi_label=True, num_labels=self.num_outputs,
                                         name=f"{self.name}_auc"),
                "f1": keras.metrics.F1Score(average="micro", threshold=0.5,
                                            name=f"{self.name}_f1")}

    def update_metrics(self, metrics, y_true, y_pred, mask):
        tf = _tf()
        y_true = _like(y_true, y_pred)
        # AUC(multi_label) wants one weight per label.
        per_label = tf.broadcast_to(tf.cast(mask, tf.float32)[:, None], tf.shape(y_pred))
        for name, metric in metrics.items():
            metric.update_state(y_true, y_pred, sample_weight=per_label if name == "auc" else mask)

    def serving_outputs(self, y):
        return {self.name: _tf().cast(y, "float32")}

    def exact_metrics(self, y_true, y_pred, mask):
        from utils.ranking import macro_roc_auc
        y_true = np.asarray(y_true).reshape(np.shape(y_pred))
        return {"auc": macro_roc_auc(y_true, y_pred, mask)}

    def sample_labels(self, n, rng):
        return rng.integers(0, 2, (n, len(self.classes))).astype(np.float32)

    def labels_from_scores(self, score):
        return (score[:, :len(self.classes)] > 0).astype("int64")

    @classmethod
    def classes_from_text(cls, values, column, separator="|", none="none", **options):
        names = set()
        for v in values:
            if v != none:
                names.update(p.strip() for p in v.split(separator) if p.strip())
        classes = sort_classes(names)
        if len(classes) < 2:
            raise ValueError(f"data.options.labels.{column}: a multilabel label needs at least 2 "
                             f"classes; found {list(classes)}")
        return classes

    def labels_from_text(self, texts, where, separator="|", none="none", **options):
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


@TASK_KINDS.register("regression")
class RegressionTask(_OneUnit, _KindBase):
    """A number: one linear unit, squared-error loss; label a float (NaN missing).

    With `target_mean`/`target_std` (`with_label_statistics` on the training labels) the
    loss compares the logit with the standardised label and the output layer maps the
    logit back (`logit * target_std + target_mean`, in the graph), so a target in grams
    weighs in the total loss like one in kilograms, while outputs, served answers and
    metrics stay in the label's own units.
    """

    activation = "linear"
    label_shape = ()
    label_dtype = "float32"
    primary_metric = ("rmse", False)
    uncertainty_scale = 0.5
    signature_method = "regress"

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

    def make_head(self):
        keras = _keras()
        dense = keras.layers.Dense(1, name=f"{self.name}_logits", dtype="float32")
        if self.target_mean is None:
            return dense, keras.layers.Activation("linear", name=self.name, dtype="float32")
        return dense, keras.layers.Rescaling(scale=self.target_std, offset=self.target_mean,
                                             name=self.name, dtype="float32")

    def encode_label(self, raw):
        tf = _tf()
        raw = tf.cast(tf.reshape(raw, [1]), tf.float32)
        missing = tf.math.is_nan(raw)
        return tf.where(missing, tf.zeros_like(raw), raw), 1.0 - tf.cast(missing[0], tf.float32)

    def per_example_loss(self, y_true, logits):
        tf = _tf()
        logits = tf.cast(logits, tf.float32)
        y = _like(y_true, logits)
        if self.target_mean is not None:
            y = (y - self.target_mean) / self.target_std
        return tf.reduce_mean(tf.square(logits - y), axis=-1)

    def make_metrics(self):
        keras = _keras()
        return {"rmse": keras.metrics.RootMeanSquaredError(name=f"{self.name}_rmse"),
                "mae": keras.metrics.MeanAbsoluteError(name=f"{self.name}_mae")}

    def signature_outputs(self, y):
        return {"outputs": self.serving_outputs(y)[self.name]}

    def sample_labels(self, n, rng):
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


@TASK_KINDS.register("token_multiclass")
class TokenMulticlassTask(MulticlassTask):
    """One of N per token (tagging: part of speech, BIO chunks or entities): a softmax per
    token; label a sequence of class indices, one per token (-1 for a token without a
    label; an empty sequence when the whole example lacks one).

    Heads, losses and metrics run on `[batch, tokens, ...]`: the pipeline pads each batch
    to its longest sentence with masked tokens, so padding and unlabelled tokens are out
    of the loss (a mean over labelled tokens) and of every metric. Metrics: token
    accuracy, and for BIO tag sets (`O`, `B-X`, `I-X`) chunk precision, recall and F1 as
    conlleval computes them (`data/text_spans.py`), F1 ranking models. Served outputs per
    token: probabilities `<task>`, class ids `<task>_class` and tag names `<task>_label`
    (padded like the tokens; the export adds `tokens` and `sequence_length`). TF Serving's
    classify/regress answer one class list or value per example, so no such signature.
    """

    label_shape = (None,)
    signature_method = None

    @property
    def bio(self):
        from data.text_spans import BioScheme
        return BioScheme(self.classes) if BioScheme.is_bio(self.classes) else None

    @property
    def primary_metric(self):
        return ("f1", True) if self.bio is not None else ("accuracy", True)

    def missing_label(self):
        return np.zeros(0, np.int64)

    def make_metrics(self):
        keras = _keras()
        out = {"accuracy": keras.metrics.SparseCategoricalAccuracy(name=f"{self.name}_accuracy")}
        scheme = self.bio
        if scheme is not None:
            from data.text_spans import make_span_metric
            for which in ("precision", "recall", "f1"):
                out[which] = make_span_metric(scheme, which, f"{self.name}_{which}")
        return out

    def exact_metrics(self, y_true, y_pred, mask):
        from data.text_spans import chunk_counts, span_scores
        scheme = self.bio
        if scheme is None:
            return {}
        pred = np.asarray(y_pred).argmax(-1)
        gold = np.asarray(y_true).reshape(pred.shape)
        return span_scores(*chunk_counts(scheme, gold, pred, np.asarray(mask) > 0))

    def serving_outputs(self, y):
        tf = _tf()
        y = tf.cast(y, tf.float32)
        index = tf.argmax(y, axis=-1, output_type=tf.int64)
        return {self.name: y, f"{self.name}_class": index,
                f"{self.name}_label": tf.gather(tf.constant(list(self.classes)), index)}

    def sample_labels(self, n, rng, lengths=None):
        """[n, max length] tag ids, -1 past each example's length (`lengths`, default 3)."""
        lengths = np.full(n, 3) if lengths is None else np.asarray(lengths)
        out = rng.integers(0, len(self.classes), (n, int(lengths.max(initial=0))))
        out[np.arange(out.shape[1])[None, :] >= lengths[:, None]] = -1
        return out.astype(np.int64)

    def labels_from_scores(self, score):
        raise NotImplementedError("token_multiclass labels come from a tagged corpus "
                                  "(e.g. conll2000), not from per-example scores")

    @classmethod
    def classes_from_text(cls, values, column, **options):
        raise ValueError(f"data.options.labels.{column}: token_multiclass labels need one tag "
                         "per token (a tagged corpus such as conll2000), not a CSV column")
