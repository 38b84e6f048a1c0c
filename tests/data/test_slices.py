"""A source's slice read inside its dataset's own training split: absolute, percent, open
and negative bounds, nested slices, training splits of several pieces, and the slices that
cannot be read (another split, shards, out of range) refused saying what is valid."""

import pytest

from data.slices import compose

RAW = {"train": 1000, "test": 200}


@pytest.mark.parametrize("outer, inner, expected", [
    # The dataset's training split is TFDS's raw train: the slice is read as written.
    ("train", "train", "train"),
    ("train", "train[:500]", "train[:500]"),
    ("train", "train[10%:]", "train[10%:]"),
    # A training split that is a slice of raw train (conll2000, smallnorb, dsprites...).
    ("train[:900]", "train", "train[:900]"),
    ("train[:900]", "train[:500]", "train[:500]"),
    ("train[:900]", "train[500:]", "train[500:900]"),      # never the held-out 900..1000
    ("train[:900]", "train[100:200]", "train[100:200]"),
    ("train[:900]", "train[-100:]", "train[800:900]"),
    ("train[:900]", "train[:-100]", "train[:800]"),
    ("train[:900]", "train[:10%]", "train[:90]"),          # 10% of the 900, not of 1000
    ("train[:90%]", "train[50%:]", "train[450:900]"),
    ("train[:80%]", "train[:33%]", "train[:264]"),          # 0.33 * 800, rounded as TFDS does
    # Nested: a training split that starts late, a slice inside it.
    ("train[100:]", "train[:10]", "train[100:110]"),
    ("train[100:]", "train[10%:20%]", "train[190:280]"),
    ("train[100:600]", "train[250:]", "train[350:600]"),
    # Pieces: the training split's pieces joined, or the source's.
    ("train[:100]+test", "train[50:150]", "train[50:100]+test[:50]"),
    ("train[:900]", "train[:10]+train[-10:]", "train[:10]+train[890:900]"),
    # An empty slice stays empty (and is refused later as holding no examples).
    ("train[:900]", "train[:0]", "train[:0]"),
])
def test_compose(outer, inner, expected):
    assert compose(outer, inner, RAW) == expected


@pytest.mark.parametrize("inner, message", [
    ("test", r"'test' names split 'test'; valid: train \(all of the dataset's training split\)"),
    ("validation[:10]", "names split 'validation'"),
    ("train[:10]+test", "names split 'test'"),
    ("all", "names split 'all'"),
    ("train[:1shard]", "slices by shard"),
    ("train[:901]", "does not fit the training split's 900 examples"),
    ("train[-901:]", "does not fit the training split's 900 examples"),
    ("train[:150%]", "does not fit"),
    ("train[a:b]", "does not fit .*Unrecognized split format"),
])
def test_slices_that_cannot_be_read_say_what_is_valid(inner, message):
    with pytest.raises(ValueError, match=message) as raised:
        compose("train[:900]", inner, RAW)
    assert "valid: train (all of the dataset's training split) or a slice of it: train[:500]" \
        in str(raised.value)


def test_a_built_datasets_split_infos_are_lengths(multi_mnist_dir):
    import data
    from data import pipeline

    splits = pipeline.prepare(data.get_dataset("multi_mnist"), multi_mnist_dir).info.splits
    n = splits["train"].num_examples
    assert compose("train[:50%]", "train[50%:]", splits) == f"train[{n // 4}:{n // 2}]"
