"""`token_multiclass`: one of N per token (tagging: part of speech, BIO chunks or entities).

A softmax per token; the label is a sequence of class indices, one per token (-1 for a
token without a label; an empty sequence when the whole example lacks one). Heads,
losses and metrics run on `[batch, tokens, ...]`: the pipeline pads each batch to its
longest sentence with masked tokens, so padding and unlabelled tokens are out of the loss
(a mean over labelled tokens) and of every metric. Metrics: token accuracy, and for BIO
tag sets (`O`, `B-X`, `I-X`; IOB1, IOB2 or BIOES with `E-X`, `S-X`) chunk precision,
recall and F1 as conlleval computes them (`tasks/spans.py`, streaming in
`tasks/span_metric.py`), F1 ranking models. `scheme` declares the tagging scheme (`iob1`,
`iob2`/`bio`, `bioes`; the tags must fit it), `none` scores tags as plain classes even when
they look like spans; unset, a span-like tag set is scored as spans. Served
outputs per token: probabilities `<task>`, class ids `<task>_class` and tag names
`<task>_label` (padded like the tokens; the text input adds `tokens` and
`sequence_length`). TF Serving's classify/regress answer one class list or value per
example, so no such signature.

Example:
>>> from tasks import Task
>>> chunk = Task("chunk", "token_multiclass", ("O", "B-NP", "I-NP"))
>>> chunk.label_shape, chunk.primary_metric, chunk.metric_names
((None,), ('f1', True), ('accuracy', 'precision', 'recall', 'f1'))
>>> Task("ner", "token_multiclass", ("O", "S-PER"), scheme="bioes").to_config()["scheme"]
'bioes'
"""

import dataclasses
from typing import Optional

import numpy as np

from tasks.multiclass import MulticlassTask
from tasks.spans import BioScheme, chunk_counts, span_scores
from tasks.tag_schemes import PREFIXES, scheme_name, split_tag
from utils.lazy import LazyModule

keras = LazyModule("keras")
tf = LazyModule("tensorflow")

SPAN_METRICS = ("precision", "recall", "f1")


@dataclasses.dataclass(frozen=True)
class TokenMulticlassTask(MulticlassTask):
    """One of N per token: a softmax per token; label a sequence of class indices.

    Args (besides `tasks.base.TaskKind`'s):
        scheme: str or None. The tagging scheme of span tags (`iob1`, `iob2` or `bio`,
            `bioes`), `none` (plain tags, no span metrics), or None (spans when the tag set
            looks like one).
    """

    scheme: Optional[str] = None

    label_shape = (None,)
    signature_method = None

    def __post_init__(self):
        super().__post_init__()
        if self.scheme is None or self.scheme == "none":
            return
        scheme = scheme_name(self.scheme, f"Task {self.name!r}: scheme")
        object.__setattr__(self, "scheme", scheme)
        for tag in self.classes:
            try:
                prefix = split_tag(tag)[0]
            except ValueError as e:
                raise ValueError(f"Task {self.name!r} ({scheme}): {e}") from None
            if prefix != "O" and prefix not in PREFIXES[scheme]:
                raise ValueError(f"Task {self.name!r}: tag {tag!r} is not a {scheme} tag "
                                 f"(prefixes {', '.join(PREFIXES[scheme])})")

    def to_config(self):
        config = super().to_config()
        if config["scheme"] is None:  # written only when set: other configs stay as they were
            del config["scheme"]
        return config

    def align(self, y_true, mask, y_pred):
        """Labels and mask padded (mask 0) to the model's token axis: a batch pads each part
        to its own longest, and examples that lack this task's labels (another source's, in
        a mixture) carry none, so the labels may be shorter than the sentences."""
        missing = tf.maximum(tf.shape(y_pred)[1] - tf.shape(y_true)[1], 0)
        pad = [[0, 0], [0, missing]]
        return tf.pad(y_true, pad), tf.pad(mask, pad)

    @property
    def bio(self):
        """The tag set's span reading (`BioScheme`), or None when its tags are not spans
        (or `scheme` is `none`)."""
        if self.scheme == "none" or not BioScheme.is_bio(self.classes):
            return None
        return BioScheme(self.classes)

    @property
    def primary_metric(self):
        return ("f1", True) if self.bio is not None else ("accuracy", True)

    @property
    def metric_names(self):
        return ("accuracy",) + (SPAN_METRICS if self.bio is not None else ())

    def missing_label(self):
        return np.zeros(0, np.int64)

    def make_metrics(self):
        out = {"accuracy": keras.metrics.SparseCategoricalAccuracy(name=f"{self.name}_accuracy")}
        scheme = self.bio
        if scheme is not None:
            from tasks.span_metric import SpanMetric  # TensorFlow: only when metrics are made
            for which in SPAN_METRICS:
                out[which] = SpanMetric(scheme, which, f"{self.name}_{which}")
        return out

    def exact_metrics(self, y_true, y_pred, mask):
        scheme = self.bio
        if scheme is None:
            return {}
        pred = np.asarray(y_pred).argmax(-1)
        gold = np.asarray(y_true).reshape(pred.shape)
        return span_scores(*chunk_counts(scheme, gold, pred, np.asarray(mask) > 0))

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
