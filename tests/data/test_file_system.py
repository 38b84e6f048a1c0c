"""Tables on TensorFlow's file systems (`data/file_system.py`), tried on its in-memory `ram://`
one: gzip CSV shards, a JSON Lines file and a Parquet file give the analysis and examples of
the same files read from local paths (Beam's, in tests/data/test_csv_writer.py); every codec
is read, by name or by its first bytes; the schema cache goes to the data dir, remote too,
never beside the inputs; a missing remote file is the error a missing local one is, and an
error inside a remote file names its path and line."""

import bz2
import gzip
import lzma
import os
import re
import uuid

import pyarrow as pa
import pytest
import tensorflow as tf

import data
from data import csv_dataset, file_system
from data.csv_options import CsvError
from data.csv_reader import CsvFile, compression
from data.csv_schema import analysis
from data.table_reader import open_table
from tests.data.helpers import example_rows, whole_split
from tests.data.test_csv_files import LINES, OPTIONS, write
from tests.data.test_tables import LABELS, rows, table_spec, write_jsonl, write_parquet

KINDS = ("csv", "jsonl", "parquet")


def local_tables(folder, kind):
    """Small local files of `kind` (two gzip CSV shards, a JSON Lines file, a Parquet file):
    their glob or path."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        write(folder / "part-0.csv.gz", LINES[:4], gzip.open)
        write(folder / "part-1.csv.gz", LINES[4:] * 5, gzip.open)
        return str(folder / "part-*.csv.gz")
    return (write_jsonl if kind == "jsonl" else write_parquet)(folder / f"log.{kind}", rows(90))


def to_ram(local):
    """The files of a local path or glob copied into a fresh `ram://` folder (same names, so
    the same seeded split); the same path or glob there."""
    folder = f"ram://{uuid.uuid4().hex}"
    tf.io.gfile.makedirs(folder)
    for path in file_system.glob_files(local):
        tf.io.gfile.copy(path, f"{folder}/{os.path.basename(path)}")
    return f"{folder}/{os.path.basename(local)}"


def spec_of(kind, train, tmp_path, **options):
    """The dataset of the files (`csv`: the census-like options; else `data.name: table`), its
    schema cached in `tmp_path/tfds`."""
    if kind == "csv":
        return data.get_dataset("csv", train=train, data_dir=str(tmp_path / "tfds"),
                                **dict(OPTIONS, split={"validation": 0.3}, **options))
    return table_spec(tmp_path, train, split={"validation": 0.25}, **options)


def schema_of(spec):
    config = spec.builder_kwargs["config"].schema.to_config()
    config.pop("seconds")
    return config


@pytest.mark.parametrize("kind", KINDS)
def test_remote_tables_give_the_examples_of_local_ones(tmp_path, kind):
    local = local_tables(tmp_path / "in", kind)
    remote = to_ram(local)
    local_spec, remote_spec = spec_of(kind, local, tmp_path), spec_of(kind, remote, tmp_path)
    assert all(p.startswith("ram://") for p in remote_spec.builder_kwargs["config"].options.train)
    assert schema_of(remote_spec) == schema_of(local_spec)
    data_dir = str(tmp_path / "tfds")
    for split in local_spec.splits:
        assert example_rows(whole_split(remote_spec, split, data_dir)) == \
            example_rows(whole_split(local_spec, split, data_dir)), split


def _compressed(codec, text):
    if codec in ("zstd", "lz4"):
        sink = pa.BufferOutputStream()
        with pa.CompressedOutputStream(sink, codec) as f:
            f.write(text)
        return sink.getvalue().to_pybytes()
    return {"gzip": gzip, "bz2": bz2, "xz": lzma}[codec].compress(text)


@pytest.mark.parametrize("name, codec", [("a.csv.gz", "gzip"), ("a.csv.bz2", "bz2"),
                                         ("a.csv.xz", "xz"), ("a.csv.zst", "zstd"),
                                         ("a.csv.lz4", "lz4"), ("a.csv", "gzip"),
                                         ("a.csv", None)])
def test_a_remote_file_is_read_with_its_codec_by_name_or_first_bytes(name, codec):
    text = ("x,city\n" + "".join(f"{i},c{i}\n" for i in range(300))).encode()
    path = f"ram://{uuid.uuid4().hex}/{name}"
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(_compressed(codec, text) if codec else text)
    assert compression(path) == codec  # `a.csv` holding gzip: by its first bytes
    f = CsvFile.open(path)
    cities = [c for _, batch in f.blocks(["city"]) for c in batch.column(0).to_pylist()]
    assert f.names == ["x", "city"] and cities == [f"c{i}" for i in range(300)]


def test_the_schema_cache_goes_to_the_data_dir_never_beside_a_remote_input(tmp_path,
                                                                           monkeypatch):
    remote = to_ram(local_tables(tmp_path / "in", "parquet"))
    inputs = sorted(tf.io.gfile.listdir(os.path.dirname(remote)))
    data_dir = f"ram://{uuid.uuid4().hex}/tfds"  # as a data dir on gs:// would be
    kwargs = dict(train=remote, labels=LABELS, data_dir=data_dir)
    first = data.get_dataset("table", **kwargs)
    assert sorted(tf.io.gfile.listdir(os.path.dirname(remote))) == inputs
    [cache] = tf.io.gfile.glob(f"{data_dir}/multi_task_csv/*/csv_schema.json")
    assert first.builder_kwargs["config"].name in cache
    # Another process (no schema in memory) reads it back instead of analysing again.
    monkeypatch.setattr(csv_dataset, "_SCHEMAS", {})
    monkeypatch.setattr(analysis, "analyze", lambda options: pytest.fail("analysed again"))
    again = data.get_dataset("table", **kwargs)
    assert schema_of(again) == schema_of(first)


def test_a_missing_remote_file_is_the_error_a_missing_local_one_is(tmp_path):
    folder = f"ram://{uuid.uuid4().hex}"
    tf.io.gfile.makedirs(folder)
    for missing in (str(tmp_path / "gone.parquet"), f"{folder}/gone.parquet"):
        with pytest.raises(CsvError, match=f"^{re.escape(missing)}: file not found "
                                           r"\(data.options.train\)$"):
            data.get_dataset("table", train=missing, labels=LABELS)
        with pytest.raises(CsvError, match=f"^{re.escape(missing)}: file not found$"):
            open_table(missing)  # gone after it was listed
    with pytest.raises(CsvError, match=rf"^{folder}/part-\*.csv.gz: no file matches "
                                       r"\(data.options.test\)$"):
        data.get_dataset("csv", train=to_ram(local_tables(tmp_path / "in", "csv")),
                         test=f"{folder}/part-*.csv.gz", labels={"income": "binary"})
    if "s3" not in tf.io.gfile.get_registered_schemes():  # no plugin here: said so, no traceback
        with pytest.raises(CsvError, match=r"^s3://bucket/x.csv: TensorFlow has no file system "
                                           r"for s3:// in this process; valid: a local path, .*"
                                           r"ram://.*\(data.options.train\)$"):
            data.get_dataset("csv", train="s3://bucket/x.csv", labels={"income": "binary"})


def test_errors_inside_a_remote_file_name_its_path_and_line(tmp_path):
    folder = f"ram://{uuid.uuid4().hex}"
    tf.io.gfile.makedirs(folder)
    bad = f"{folder}/bad.csv.gz"
    with tf.io.gfile.GFile(bad, "wb") as f:
        f.write(gzip.compress(("\n".join(LINES[:2] + [LINES[2] + ",extra"] + LINES[3:]) +
                               "\n").encode()))
    with pytest.raises(CsvError, match=f"^{re.escape(bad)}, line 3: 8 cells, but the header "
                                       "has 7 columns"):
        data.get_dataset("csv", train=bad, data_dir=str(tmp_path / "tfds"), **OPTIONS)
    broken = f"{folder}/b.jsonl"
    with tf.io.gfile.GFile(broken, "w") as f:
        f.write('{"a": 1}\n{not json\n')
    with pytest.raises(CsvError, match=f"^{re.escape(broken)}, line 2: not JSON"):
        data.get_dataset("table", train=broken, labels={"a": "regression"})
