"""Chunk precision/recall/F1 as conlleval counts them: a hand-worked example, the
TensorFlow counts equal to the reference, streaming equal to corpus-level."""

import numpy as np
import pytest
import tensorflow as tf

from data.conll2000 import CHUNK_TAGS
from tasks import Task
from tasks.span_metric import chunk_counts_tf
from tasks.spans import BioScheme, chunk_counts, chunks, span_scores

TAGS = ("O", "B-NP", "I-NP", "B-VP", "I-VP", "B-PP", "I-PP")
SCHEME = BioScheme(TAGS)


def ids(tags):
    return [TAGS.index(t) for t in tags.split()]


# Worked by hand with conlleval's startOfChunk/endOfChunk:
#   gold: [NP 0-1] [VP 2] O [NP 4-6] [PP 7] [NP 8] O                    -> 5 chunks
#   pred: [NP 0-1] [VP 2] O [NP 4-5] [NP 6] [PP 7] [NP 8-9]             -> 6 chunks
#         (position 2: I-VP after I-NP changes type, so it opens a VP; position 8: I-NP
#         after B-PP opens an NP, which position 9 continues)
#   correct: NP 0-1, VP 2, PP 7 = 3 (NP 4-6 and NP 8 have other ends)
#   precision 3/6, recall 3/5, F1 = 2 * 0.5 * 0.6 / 1.1 = 6/11; tokens right 6/10.
GOLD = ids("B-NP I-NP B-VP O B-NP I-NP I-NP B-PP B-NP O")
PRED = ids("B-NP I-NP I-VP O B-NP I-NP B-NP B-PP I-NP I-NP")


def test_hand_worked_example():
    nps, vps, pps = (SCHEME.types.index(t) for t in ("NP", "VP", "PP"))
    assert chunks(SCHEME, GOLD) == {(0, 1, nps), (2, 2, vps), (4, 6, nps), (7, 7, pps),
                                    (8, 8, nps)}
    assert chunks(SCHEME, PRED) == {(0, 1, nps), (2, 2, vps), (4, 5, nps), (6, 6, nps),
                                    (7, 7, pps), (8, 9, nps)}
    assert chunk_counts(SCHEME, [GOLD], [PRED]) == (3, 6, 5)
    scores = span_scores(3, 6, 5)
    assert scores["precision"] == 0.5 and scores["recall"] == 0.6
    assert scores["f1"] == pytest.approx(6 / 11)
    # Through the task kind, on whole arrays (final test metrics) and streaming (training).
    task = Task("chunk", "token_multiclass", TAGS)
    probs = np.eye(len(TAGS), dtype=np.float32)[[PRED]]
    exact = task.exact_metrics(np.array([GOLD]), probs, np.ones((1, 10)))
    assert exact["f1"] == pytest.approx(6 / 11)
    metrics = task.make_metrics()
    task.update_metrics(metrics, tf.constant([GOLD]), tf.constant(probs), tf.ones((1, 10)))
    values = {k: float(m.result()) for k, m in metrics.items()}
    assert values == pytest.approx({"accuracy": 0.6, "precision": 0.5, "recall": 0.6,
                                    "f1": 6 / 11})


def test_sentence_boundaries_and_padding_end_chunks():
    # B-NP ending sentence 1 and I-NP opening sentence 2 are two chunks, not one; masked
    # tokens (padding) count as O.
    gold = [ids("O B-NP"), ids("I-NP O")]
    assert chunk_counts(SCHEME, gold, gold) == (2, 2, 2)
    padded = np.array([ids("B-NP I-NP I-NP")])
    valid = np.array([[True, True, False]])
    assert chunks(SCHEME, padded[0], valid[0]) == {(0, 1, SCHEME.types.index("NP"))}


def test_tensorflow_counts_equal_the_reference():
    scheme = BioScheme(CHUNK_TAGS)
    rng = np.random.default_rng(0)
    for _ in range(20):
        gold = rng.integers(0, len(CHUNK_TAGS), (6, 12))
        pred = np.where(rng.random(gold.shape) < 0.7, gold,
                        rng.integers(0, len(CHUNK_TAGS), gold.shape))
        valid = np.arange(12)[None, :] < rng.integers(0, 13, (6, 1))
        want = chunk_counts(scheme, gold, pred, valid)
        got = [int(v) for v in chunk_counts_tf(scheme, gold, pred, valid)]
        assert tuple(got) == want


def test_streaming_f1_is_the_corpus_score_not_a_mean_of_batches():
    task = Task("chunk", "token_multiclass", TAGS)
    metric = task.make_metrics()["f1"]
    one_hot = np.eye(len(TAGS), dtype=np.float32)
    batches = [(GOLD, PRED), (ids("B-NP O"), ids("B-NP O"))]
    for gold, pred in batches:
        metric.update_state(tf.constant([gold]), tf.constant(one_hot[[pred]]),
                            tf.ones((1, len(gold))))
    # Counts summed: correct 3 + 1, predicted 6 + 1, gold 5 + 1.
    assert float(metric.result()) == pytest.approx(span_scores(4, 7, 6)["f1"])


def test_tag_sets_that_are_not_bio():
    assert not BioScheme.is_bio(("NN", "VB"))
    assert BioScheme.is_bio(("O", "I-NP"))  # IOB1: a chunk after O begins with I
    assert not BioScheme.is_bio(("O",))
    assert Task("pos", "token_multiclass", ("NN", "VB")).primary_metric == ("accuracy", True)
    assert Task("chunk", "token_multiclass", TAGS).primary_metric == ("f1", True)
    assert sorted(Task("pos", "token_multiclass", ("NN", "VB")).make_metrics()) == ["accuracy"]
    with pytest.raises(ValueError, match="tag 'X-NP' is not BIO"):
        BioScheme(("O", "X-NP"))
