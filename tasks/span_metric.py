"""The chunk counts of `tasks/spans.py` in TensorFlow, and the streaming span metric.

`chunk_counts_tf` computes conlleval's (correct, predicted, gold) chunk counts of a
padded batch in the graph (vectorised, no Python loop over sentences); `SpanMetric`
sums them over batches, so an epoch's precision, recall or F1 is the corpus-level score
conlleval gives, not a mean of per-batch scores. A token kind with a BIO tag set makes
them (`tasks/token_multiclass.py`).

Example:
>>> import numpy as np
>>> from tasks.span_metric import SpanMetric
>>> from tasks.spans import BioScheme
>>> f1 = SpanMetric(BioScheme(("O", "B-NP", "I-NP", "B-VP")), "f1", "chunk_f1")
>>> f1.update_state(np.array([[1, 2, 3, 0]]), np.eye(4)[[[1, 2, 0, 2]]])
>>> round(float(f1.result()), 2)
0.5
"""

import keras
import tensorflow as tf


def _chunk_ends_tf(scheme, tags, valid):
    """Per token of a padded batch: whether a chunk starts there, its type and, at a start,
    the index of the chunk's last token."""
    tags = tf.cast(tags, tf.int64)
    begin = tf.gather(tf.constant(scheme.begins), tags) & valid
    inside = (begin | tf.gather(tf.constant(scheme.insides), tags)) & valid
    kind = tf.where(inside, tf.gather(tf.constant(scheme.type_ids), tags), -1)
    prev_kind = tf.pad(kind[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
    closes = inside & tf.gather(tf.constant(scheme.ends), tags)
    prev_closed = tf.pad(closes[:, :-1], [[0, 0], [1, 0]], constant_values=False)
    # A chunk starts at a B or S, wherever the type differs from the previous token's
    # (an I after O or after another type), as conlleval's startOfChunk, and after a
    # token that closed a chunk (E, S).
    start = inside & (begin | tf.not_equal(prev_kind, kind) | prev_closed)
    # Chunk k of row b (k counts starts) gets segment id b * T + k; its last token is the
    # largest position carrying that id.
    length = tf.shape(tags, out_type=tf.int64)[1]
    rows = tf.range(tf.shape(tags, out_type=tf.int64)[0])[:, None]
    ids = rows * length + tf.cumsum(tf.cast(start, tf.int64), axis=1) - 1
    positions = tf.broadcast_to(tf.range(length)[None, :], tf.shape(tags, out_type=tf.int64))
    ids = tf.where(inside, ids, tf.size(tags, out_type=tf.int64))  # outside: a spare segment
    last = tf.math.unsorted_segment_max(positions, ids, tf.size(tags, out_type=tf.int64) + 1)
    return start, kind, tf.gather(last, ids)


def chunk_counts_tf(scheme, gold, pred, valid):
    """`chunk_counts` on a padded batch in TensorFlow: [B, T] gold and predicted tag ids,
    [B, T] `valid` (bool) -> (correct, predicted, gold) as float32 scalars."""
    valid = tf.cast(valid, tf.bool)
    g_start, g_kind, g_last = _chunk_ends_tf(scheme, gold, valid)
    p_start, p_kind, p_last = _chunk_ends_tf(scheme, pred, valid)
    correct = g_start & p_start & tf.equal(g_kind, p_kind) & tf.equal(g_last, p_last)

    def count(x):
        return tf.reduce_sum(tf.cast(x, tf.float32))
    return count(correct), count(p_start), count(g_start)


class SpanMetric(keras.metrics.Metric):
    """A streaming Keras metric of chunk `which` (precision, recall or f1) for `scheme`:
    `update_state(y_true [B, T] ids, y_pred [B, T, C] probabilities, sample_weight [B, T]
    mask)` adds the batch's chunk counts.

    Args:
        scheme: `tasks.spans.BioScheme`. The tag set's span reading (IOB1, IOB2, BIOES).
        which: str. `precision`, `recall` or `f1`.
        name: str. The metric's name (`<task>_<which>`).
    """

    def __init__(self, scheme, which, name):
        super().__init__(name=name)
        self.scheme, self.which = scheme, which
        self.counts = self.add_variable(shape=(3,), initializer="zeros", name="counts")

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = tf.argmax(y_pred, axis=-1)
        gold = tf.reshape(tf.cast(y_true, tf.int64), tf.shape(pred))
        valid = tf.ones_like(pred, tf.bool) if sample_weight is None else \
            tf.reshape(sample_weight, tf.shape(pred)) > 0
        self.counts.assign_add(tf.stack(chunk_counts_tf(self.scheme, gold, pred, valid)))

    def result(self):
        correct, predicted, gold = tf.unstack(self.counts)
        precision = tf.math.divide_no_nan(correct, predicted)
        recall = tf.math.divide_no_nan(correct, gold)
        return {"precision": precision, "recall": recall,
                "f1": tf.math.divide_no_nan(2 * precision * recall,
                                            precision + recall)}[self.which]
