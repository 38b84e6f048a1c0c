"""Helpers shared by the data tests: read splits as numpy (and as rows to compare in any order),
compare a Beam build with the one-process build, write small CSV files, and the small
CoNLL-2000 fixture (10 training sentences, 3 test sentences)."""

import csv
import os

import numpy as np

from data import pipeline
from tests.helpers import REPO

CONLL2000 = os.path.join(REPO, "tests", "data", "fixtures", "conll2000")


def first_batch(spec, split, data_dir, batch_size=8, tasks=None, **kwargs):
    """The first (inputs, labels, masks) batch of a split, as numpy dicts."""
    ds = pipeline.load_split(spec, split, tasks or spec.tasks, data_dir, batch_size, **kwargs)
    return tuple({k: v.numpy() for k, v in part.items()} for part in next(iter(ds)))


def whole_split(spec, split, data_dir, tasks=None):
    """Every example of a split in file order, as one numpy batch per part."""
    return first_batch(spec, split, data_dir, batch_size=1 << 20, tasks=tasks)


def split_size(spec, split, data_dir):
    return int(pipeline.prepare(spec, data_dir).info.splits[pipeline.split_name(spec, split)]
               .num_examples)


def write_csv(path, header, rows, delimiter=","):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def example_rows(parts):
    """The examples of a split (inputs, labels, masks as whole-split arrays) as a sorted list of
    rows, each a tuple of (key, value text): equal lists mean the same examples, any order."""
    flat = {f"{i}/{k}": np.asarray(v) for i, part in enumerate(parts) for k, v in part.items()}
    n = len(next(iter(flat.values())))
    value = lambda x: repr(x.tolist() if hasattr(x, "tolist") else x)  # noqa: E731 (nan == nan)
    return sorted(tuple((k, value(v[j])) for k, v in sorted(flat.items())) for j in range(n))


def compare_beam_build(spec, tmp_path, beam_options, local_spec=None, in_order=False):
    """`spec` built by a Beam pipeline under `beam_options` (text, into `tmp_path/beam`) and
    `local_spec` (default `spec`) in one process (into `tmp_path/local`): the same split sizes
    and examples, in any order (`in_order`: in the same order); the Beam-built builder."""
    import tensorflow_datasets as tfds

    from data.beam_shards import pipeline_options

    local_spec = local_spec or spec
    local_dir, beam_dir = str(tmp_path / "local"), str(tmp_path / "beam")
    builder = pipeline.builder(spec, beam_dir)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        beam_options=pipeline_options(beam_options)))
    local = pipeline.prepare(local_spec, local_dir)
    assert {s: i.num_examples for s, i in builder.info.splits.items()} == \
        {s: i.num_examples for s, i in local.info.splits.items()}
    for split in spec.splits:
        ours, theirs = whole_split(spec, split, beam_dir), whole_split(local_spec, split,
                                                                       local_dir)
        assert example_rows(ours) == example_rows(theirs), split
        for a, b in zip(ours, theirs) if in_order else ():
            assert_same(a, b)
    return builder


def assert_same(a, b):
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
