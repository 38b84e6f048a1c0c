"""Mixtures of sources: masks of the tasks a source lacks, sampled streams that realise
their plan, evaluation on each task's own source, and the errors of sources that do not fit."""

import dataclasses

import numpy as np
import pytest

import data
from data import pipeline
from inputs import InputSpec
from data.mixture import (Mixture, Sampling, Source, eval_examples, train_batches, train_sizes,
                          training_examples)
from tests.data.helpers import CONLL2000


def halves(left_split="train[:200]", right_split="train[200:600]"):
    """multi_mnist as two disjointly labelled parts: `left` on one, `right` on the other."""
    spec = data.get_dataset("multi_mnist")
    return Mixture((Source.of("lefts", spec, ["left"], train_split=left_split),
                    Source.of("rights", spec, ["right"], train_split=right_split)))


def epoch(mixture, data_dir, **sampling):
    sizes = train_sizes(mixture, data_dir)
    examples = training_examples(mixture, mixture.tasks, data_dir)
    ds, realised = train_batches(mixture, examples, sizes, Sampling(**sampling), batch_size=16,
                                 seed=1, epoch=0, epochs=2)
    out = [tuple({k: v.numpy() for k, v in part.items()} for part in b) for b in ds]
    # The trainer reads an epoch's length from the dataset (progress, sampled diagnostics).
    assert int(ds.cardinality()) == len(out), (sampling, int(ds.cardinality()), len(out))
    return out, realised


def test_sizes_follow_the_slices(multi_mnist_dir):
    assert train_sizes(halves(), multi_mnist_dir) == [200, 400]
    assert train_sizes(halves(), multi_mnist_dir, take=300) == [200, 300]


@pytest.mark.parametrize("batches", ["mixed", "per_source", "round"])
def test_each_example_carries_only_its_sources_labels(multi_mnist_dir, batches):
    out, realised = epoch(halves(), multi_mnist_dir, strategy="uniform", batches=batches)
    masks = {t: np.concatenate([m[t] for _, _, m in out]) for t in ("left", "right")}
    # No example is labelled for both tasks: the halves are disjoint sources.
    assert not np.any((masks["left"] > 0) & (masks["right"] > 0))
    assert np.all((masks["left"] > 0) | (masks["right"] > 0))
    labelled = np.array([masks["left"].sum(), masks["right"].sum()]) / len(masks["left"])
    np.testing.assert_allclose(labelled, [realised["lefts"], realised["rights"]], atol=1e-9)
    if batches == "per_source":  # one source per step
        assert all(m["left"].all() or m["right"].all() for _, _, m in out)
    if batches == "round":  # a batch of each source every step
        assert all(m["left"].sum() == m["right"].sum() == 16 for _, _, m in out)


def test_default_epoch_and_proportions(multi_mnist_dir):
    out, realised = epoch(halves(), multi_mnist_dir, strategy="proportional")
    assert len(out) == 600 // 16 + 1
    assert realised["rights"] > realised["lefts"]


def test_steps_per_epoch_is_the_epoch(multi_mnist_dir):
    out, _ = epoch(halves(), multi_mnist_dir, strategy="uniform", steps_per_epoch=5)
    assert len(out) == 5


def test_evaluation_reads_each_task_on_its_own_source(multi_mnist_dir):
    spec = data.get_dataset("multi_mnist")
    # Two sources of one dataset share one copy of the test split...
    ds = pipeline.batch(eval_examples(halves(), "test", halves().tasks, multi_mnist_dir), 4096)
    _, _, masks = next(iter(ds))
    n = int(pipeline.prepare(spec, multi_mnist_dir).info.splits["test"].num_examples)
    assert masks["left"].shape[0] == n and float(np.sum(masks["left"])) == n



@pytest.mark.parametrize("split", ["validation", "test"])
def test_evaluation_on_two_datasets_reads_each_sources_own_split(multi_mnist_dir, split):
    """... and sources of two different datasets are read one after the other, each labelled
    only for its own tasks: `left` on multi_mnist's split, `digit` on uci_digits'."""
    pairs, uci = data.get_dataset("multi_mnist"), data.get_dataset("uci_digits")
    mixture = Mixture((Source.of("pairs", pairs, ["left"]), Source.of("uci", uci, ["digit"])))
    _, labels, masks = whole(eval_examples(mixture, split, mixture.tasks, multi_mnist_dir))
    own = {spec.name: whole(pipeline.load_examples(spec, split, spec.tasks, multi_mnist_dir))
           for spec in (pairs, uci)}
    n, m = (len(own[name][2][task]) for name, task in (("multi_mnist", "left"),
                                                        ("uci_digits", "digit")))
    assert n > 0 and m > 0 and n != m  # each source's own split, told apart by its size
    assert len(masks["left"]) == len(masks["digit"]) == n + m
    np.testing.assert_array_equal(masks["left"], np.r_[np.ones(n), np.zeros(m)])
    np.testing.assert_array_equal(masks["digit"], np.r_[np.zeros(n), np.ones(m)])
    np.testing.assert_array_equal(labels["left"][:n], own["multi_mnist"][1]["left"])
    np.testing.assert_array_equal(labels["digit"][n:], own["uci_digits"][1]["digit"])


def whole(ds):
    """Every example of unbatched (inputs, labels, masks) as one numpy batch per part."""
    return tuple({k: v.numpy() for k, v in part.items()} for part in
                 next(iter(pipeline.batch(ds, 1 << 20))))

def test_renamed_sources_feed_one_task_each(multi_mnist_dir):
    spec = data.get_dataset("multi_mnist")
    mixture = Mixture((Source.of("a", spec, {"left": "digit"}, train_split="train[:64]"),
                       Source.of("b", spec, {"right": "digit"}, train_split="train[64:128]")))
    assert [t.name for t in mixture.tasks] == ["digit"]
    assert mixture.sources_of("digit") == ("a", "b")
    out, _ = epoch(mixture, multi_mnist_dir, strategy="uniform", steps_per_epoch=2)
    assert out[0][2]["digit"].all()


def sentences(ds):
    """The token sequences of unbatched (inputs, labels, masks) examples, in order."""
    return [tuple(t.decode() for t in inputs["tokens"].numpy()) for inputs, _, _ in ds]


def test_slices_are_read_inside_the_datasets_own_training_split(data_dir):
    """conll2000 trains on `train[:7]` of TFDS's raw train (10 sentences) and validates on
    `train[7:]`: sources `train[:3]` and `train[3:]` split those 7, never the 3 held out."""
    spec = data.get_dataset("conll2000", path=CONLL2000, input="tokens",
                            validation_fraction=0.3)
    assert spec.splits["train"] == "train[:7]"
    mixture = Mixture((Source.of("chunks", spec, ["chunk"], train_split="train[:3]"),
                       Source.of("tags", spec, ["pos"], train_split="train[3:]")))
    first, rest = (sentences(ds) for ds in training_examples(mixture, mixture.tasks, data_dir))
    own = {split: sentences(pipeline.load_examples(spec, split, spec.tasks, data_dir))
           for split in ("train", "validation", "test")}
    assert len(set(sum(own.values(), []))) == 10 + 3  # every fixture sentence differs
    assert (len(first), len(rest)) == (3, 4) and first + rest == own["train"]
    assert not set(first + rest) & set(own["validation"] + own["test"])
    assert train_sizes(mixture, data_dir) == [3, 4]
    with pytest.raises(ValueError, match="'train\\[:8\\]' does not fit the training split's 7"):
        Source.of("x", spec, ["pos"], train_split="train[:8]").tfds_split(
            "train", pipeline.prepare(spec, data_dir).info.splits)


def test_restricted_keeps_the_sources_of_a_task():
    kept = halves().restricted(["right"])
    assert [s.name for s in kept.sources] == ["rights"]


def test_sources_with_different_inputs_are_named():
    spec = data.get_dataset("multi_mnist")
    other = dataclasses.replace(spec, inputs=(InputSpec("image", "image", shape=(32, 32, 1),
                                                        dtype="uint8"),))
    with pytest.raises(ValueError, match=r"'a' and 'b'.*shape \(28, 28, 1\) vs \(32, 32, 1\)"):
        Mixture((Source.of("a", spec, ["left"]), Source.of("b", other, ["right"])))


def test_one_task_of_two_kinds_is_refused():
    spec = data.get_dataset("multi_mnist")
    with pytest.raises(ValueError, match="task 'x' is multiclass .* but binary"):
        Mixture((Source.of("a", spec, {"left": "x"}), Source.of("b", spec, {"same_digit": "x"})))


def test_unknown_task_of_a_source_lists_its_tasks():
    with pytest.raises(KeyError, match="left, right, same_digit"):
        Source.of("a", data.get_dataset("multi_mnist"), ["digit"])
