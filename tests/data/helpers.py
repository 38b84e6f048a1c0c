"""Helpers shared by the data tests: read splits as numpy (and as rows to compare in any order),
write small CSV files, and the small CoNLL-2000 fixture (10 training sentences, 3 test
sentences)."""

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


def assert_same(a, b):
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
