"""Tagging schemes: IOB1, IOB2 and BIOES convert into each other and back, invalid tags are
found, and chunk F1 on IOB1 and BIOES taggings equals values worked out by hand (numpy,
TensorFlow and the task kind's metrics alike)."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tasks import Task
from tasks.span_metric import chunk_counts_tf
from tasks.spans import BioScheme, chunk_counts, chunks
from tasks.tag_schemes import SCHEMES, convert, detect_scheme, invalid_tags, spans

# One sentence, three spellings of the same four gold chunks: PER 0-1, LOC 3, LOC 4, ORG 6-7.
GOLD = {"iob2": "B-PER I-PER O B-LOC B-LOC O B-ORG I-ORG",
        "iob1": "I-PER I-PER O I-LOC B-LOC O I-ORG I-ORG",
        "bioes": "B-PER E-PER O S-LOC S-LOC O B-ORG E-ORG"}
# Worked by hand:
#   IOB1 prediction: PER 0-1, LOC 3-4 (I-LOC I-LOC is one chunk), ORG 6 -> 3 chunks, 1 right:
#     precision 1/3, recall 1/4, F1 = 2 (1/12) / (7/12) = 2/7.
#   BIOES prediction: PER 0-1, LOC 3, LOC 4 (S closes its chunk), ORG 6 -> 4 chunks, 3 right:
#     precision = recall = F1 = 3/4.
PRED = {"iob1": ("I-PER I-PER O I-LOC I-LOC O I-ORG O", (1, 3, 4), 2 / 7),
        "bioes": ("B-PER E-PER O S-LOC S-LOC O S-ORG O", (3, 4, 4), 3 / 4)}


def test_every_scheme_reads_the_same_chunks_and_round_trips():
    want = [(0, 1, "PER"), (3, 3, "LOC"), (4, 4, "LOC"), (6, 7, "ORG")]
    for scheme, tags in GOLD.items():
        tags = tags.split()
        assert spans(tags) == want, scheme
        assert invalid_tags(tags, scheme) == []
        for target in SCHEMES:
            assert convert(tags, scheme, target) == GOLD[target].split(), (scheme, target)
            assert convert(convert(tags, scheme, target), target, scheme) == tags


def test_round_trips_on_random_valid_taggings():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n, chunks_, i = int(rng.integers(1, 12)), [], 0
        while i < n:
            if rng.random() < 0.5:
                last = min(n - 1, i + int(rng.integers(0, 3)))
                chunks_.append((i, last, str(rng.choice(["A", "B"]))))
                i = last + 1
            else:
                i += 1
        for source, target in itertools.permutations(SCHEMES, 2):
            from tasks.tag_schemes import to_scheme
            tags = to_scheme(chunks_, n, source)
            assert spans(tags) == chunks_
            assert convert(convert(tags, source, target), target, source) == tags


def test_invalid_tags_under_each_scheme():
    assert invalid_tags("O I-PER I-PER B-LOC".split(), "iob2") == [1]
    assert invalid_tags("O B-PER I-PER B-PER".split(), "iob1") == [1]  # B after O in IOB1
    assert invalid_tags("B-PER O E-LOC S-X I-X".split(), "bioes") == [0, 2, 4]
    assert invalid_tags("S-PER".split(), "iob2") == [0]  # a prefix IOB2 lacks
    with pytest.raises(ValueError, match="unknown tagging scheme 'bilou'"):
        invalid_tags(["O"], "bilou")
    with pytest.raises(ValueError, match="tag 'E-PER' is not a iob2 tag"):
        convert(["E-PER"], "iob2", "bioes")
    assert detect_scheme({"O", "B-X", "I-X"}) == "iob2" and detect_scheme({"S-X"}) == "bioes"


@pytest.mark.parametrize("scheme", sorted(PRED))
def test_chunk_f1_equals_the_hand_computed_value(scheme):
    pred, counts, f1 = PRED[scheme]
    classes = tuple(sorted(set(GOLD[scheme].split()) | set(pred.split())))
    gold_ids = np.array([[classes.index(t) for t in GOLD[scheme].split()]])
    pred_ids = np.array([[classes.index(t) for t in pred.split()]])
    bio = BioScheme(classes)
    assert chunk_counts(bio, gold_ids, pred_ids) == counts
    got = tuple(int(v) for v in chunk_counts_tf(bio, gold_ids, pred_ids, np.ones_like(gold_ids)))
    assert got == counts
    task = Task("ner", "token_multiclass", classes, scheme=scheme)
    probs = np.eye(len(classes), dtype=np.float32)[pred_ids]
    assert task.exact_metrics(gold_ids, probs, np.ones(gold_ids.shape))["f1"] == \
        pytest.approx(f1)
    metrics = task.make_metrics()
    task.update_metrics(metrics, tf.constant(gold_ids), tf.constant(probs),
                        tf.ones(gold_ids.shape))
    assert float(metrics["f1"].result()) == pytest.approx(f1)


def test_tensorflow_counts_equal_the_reference_on_bioes_tags():
    tags = ("O", "B-A", "I-A", "E-A", "S-A", "B-B", "E-B", "S-B")
    scheme = BioScheme(tags)
    rng = np.random.default_rng(1)
    for _ in range(20):
        gold = rng.integers(0, len(tags), (5, 10))
        pred = np.where(rng.random(gold.shape) < 0.6, gold, rng.integers(0, len(tags), gold.shape))
        valid = np.arange(10)[None, :] < rng.integers(0, 11, (5, 1))
        got = tuple(int(v) for v in chunk_counts_tf(scheme, gold, pred, valid))
        assert got == chunk_counts(scheme, gold, pred, valid)
    # S-A S-A is two chunks; B-A without its E still makes one (read as conlleval reads it).
    assert chunks(scheme, [4, 4]) == {(0, 0, 0), (1, 1, 0)}
    assert chunks(scheme, [1, 0]) == {(0, 0, 0)}


def test_the_declared_scheme_is_checked_and_none_turns_spans_off():
    with pytest.raises(ValueError, match="tag 'S-PER' is not a iob2 tag"):
        Task("ner", "token_multiclass", ("O", "B-PER", "S-PER"), scheme="bio")
    plain = Task("ner", "token_multiclass", ("O", "B-PER", "I-PER"), scheme="none")
    assert plain.metric_names == ("accuracy",)
    assert Task.from_config(plain.to_config()) == plain
    assert "scheme" not in Task("pos", "token_multiclass", ("NN", "VB")).to_config()
