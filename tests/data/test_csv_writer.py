"""The vectorised writer gives the examples TFDS's own serializer gives; the Beam path (when
apache-beam is installed) builds the same dataset as the local one."""

import gzip

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.core import example_parser, example_serializer

import data
from data.csv_writer import ExampleEncoder
from tests.data.helpers import assert_same, whole_split
from tests.data.test_csv_files import LINES, OPTIONS, write


def test_encoder_matches_the_tfds_serializer():
    features = tfds.features.FeaturesDict({
        "x": tfds.features.Tensor(shape=(), dtype=np.float32),
        "city": tfds.features.Text(),
        "label": tfds.features.Tensor(shape=(), dtype=np.int64),
        "tags": tfds.features.Tensor(shape=(3,), dtype=np.int64),
        "value": tfds.features.Tensor(shape=(), dtype=np.float32)})
    rows = {"x": np.array([1.5, np.nan, -2.0], np.float32),
            "city": np.array(["rome", "", "Zürich"], object),
            "label": np.array([1, -1, 0]),
            "tags": np.array([[0, 1, 1], [-1, -1, -1], [1, 0, 0]]),
            "value": np.array([np.nan, 3.25, 1e6], np.float32)}
    encode = ExampleEncoder({"x": ("float32", ()), "city": ("string", ()),
                             "label": ("int64", ()), "tags": ("int64", (3,)),
                             "value": ("float32", ())})
    ours = encode(rows)
    serializer = example_serializer.ExampleSerializer(features.get_serialized_info())
    theirs = [serializer.serialize_example(features.encode_example(
        {k: v[i] for k, v in rows.items()})) for i in range(3)]
    parser = example_parser.ExampleParser(features.get_serialized_info())
    for a, b in zip(ours, theirs):
        pa_, pb = parser.parse_example(tf.constant(a)), parser.parse_example(tf.constant(b))
        assert sorted(pa_) == sorted(pb)
        for key in pa_:
            np.testing.assert_array_equal(pa_[key].numpy(), pb[key].numpy(), err_msg=key)


def test_beam_direct_runner_builds_the_same_dataset(tmp_path):
    """TFDS's Apache Beam path (one work item per file) against the local writer."""
    beam = pytest.importorskip("apache_beam")
    from data import pipeline

    write(tmp_path / "part-0.csv.gz", LINES[:4], gzip.open)
    write(tmp_path / "part-1.csv.gz", LINES[4:] * 5, gzip.open)
    options = dict(OPTIONS, train=str(tmp_path / "part-*.csv.gz"), split={"validation": 0.3})
    local_dir, beam_dir = str(tmp_path / "local"), str(tmp_path / "beam")
    spec = data.get_dataset("csv", data_dir=local_dir, **options)
    builder = pipeline.builder(spec, beam_dir)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        beam_runner=beam.runners.DirectRunner()))
    assert "generation_seconds" not in builder.info.metadata  # set by the local writer only
    local = pipeline.prepare(spec, local_dir)
    assert {s: i.num_examples for s, i in builder.info.splits.items()} == \
        {s: i.num_examples for s, i in local.info.splits.items()}
    for split in spec.splits:
        for a, b in zip(whole_split(spec, split, beam_dir), whole_split(spec, split, local_dir)):
            assert_same(a, b)
