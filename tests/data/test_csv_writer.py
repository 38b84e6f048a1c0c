"""The vectorised writer gives the examples TFDS's own serializer gives; the Beam pipeline
(DirectRunner, worker processes or threads, files cut into stripes of blocks, files on a
remote file system) builds the same examples as the single-process path, and a bad row a
worker meets fails with the single-process error; Beam options Beam rejects are its
message, and Beam options for a generated dataset a config error."""

import gzip

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.core import example_parser, example_serializer

import data
from data.csv_writer import ExampleEncoder
from tests.data.helpers import compare_beam_build
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


def _build_both(tmp_path, beam_options):
    """The same CSV files built by the single-process writer and by the Beam pipeline."""
    write(tmp_path / "part-0.csv.gz", LINES[:4], gzip.open)
    write(tmp_path / "part-1.csv.gz", LINES[4:] * 5, gzip.open)
    options = dict(OPTIONS, train=str(tmp_path / "part-*.csv.gz"), split={"validation": 0.3})
    spec = data.get_dataset("csv", data_dir=str(tmp_path / "local"), **options)
    return _compare(spec, tmp_path, beam_options)


def _compare(spec, tmp_path, beam_options, local_spec=None):
    """`spec` built by the Beam pipeline and `local_spec` (default `spec`) by the
    single-process writer: the same examples."""
    builder = compare_beam_build(spec, tmp_path, beam_options, local_spec)
    assert "generation_seconds" not in builder.info.metadata  # set by the local writer only
    return builder


@pytest.mark.slow
def test_beam_direct_runner_in_processes_builds_the_same_examples(tmp_path):
    """Beam's DirectRunner with 2 worker processes, one work item per file."""
    builder = _build_both(tmp_path, "direct_num_workers=2,direct_running_mode=multi_processing")
    # The shards are TFDS's: a fresh builder reads them back by name.
    again = tfds.builder("multi_task_csv", data_dir=str(tmp_path / "beam"),
                         config=builder.builder_config)
    assert again.is_prepared() and again.info.splits["train"].num_examples > 0


def test_beam_stripes_of_blocks_give_the_same_examples(tmp_path, monkeypatch):
    """More workers than files: each file is cut into stripes of blocks (tiny blocks here)."""
    from data import beam_shards, csv_reader

    monkeypatch.setattr(csv_reader, "BLOCK_SIZE", 128)  # a few rows per block
    opts = beam_shards.pipeline_options("direct_num_workers=4,direct_running_mode=multi_threading")
    assert beam_shards.stripes(opts, None, files=2) == 2
    _build_both(tmp_path, "direct_num_workers=4,direct_running_mode=multi_threading")


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_beam_builds_json_lines_and_parquet_as_one_process_does(tmp_path, monkeypatch, suffix):
    """The other table formats (ids, a list of ids, text, null cells; a held-out split) in
    stripes of blocks: Beam's examples are the single-process path's."""
    from data import table_reader
    from tests.data.test_tables import rows, table_spec, write_jsonl, write_parquet

    monkeypatch.setattr(table_reader, "PARQUET_ROWS", 40)  # several blocks per file
    monkeypatch.setattr(table_reader, "BLOCK_SIZE", 2048)
    write_table = write_jsonl if suffix == "jsonl" else write_parquet
    files = [write_table(tmp_path / f"log-{i}.{suffix}", rows(90, seed=i)) for i in range(2)]
    spec = table_spec(tmp_path / "local", files, split={"validation": 0.25})
    assert "clicked" in [i.name for i in spec.inputs]  # a list column: pyarrow ListArrays
    _compare(spec, tmp_path, "direct_num_workers=4,direct_running_mode=multi_threading")


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_beam_reads_remote_tables_as_one_process_reads_local_ones(tmp_path, kind):
    """gzip CSV shards, a JSON Lines file, a Parquet file on TensorFlow's `ram://` file system,
    built by the DirectRunner's threads (`ram://` is this process's memory: worker processes
    would not see it; Dataflow's workers open `gs://` paths the same way): the examples of
    the same files built from local paths in one process."""
    from tests.data.test_file_system import local_tables, spec_of, to_ram

    local = local_tables(tmp_path / "in", kind)
    remote = spec_of(kind, to_ram(local), tmp_path)
    _compare(remote, tmp_path, "direct_num_workers=2,direct_running_mode=multi_threading",
             local_spec=spec_of(kind, local, tmp_path))


def test_a_bad_row_met_by_a_beam_worker_is_the_one_process_error(tmp_path):
    """The file breaks after its analysis (only the worker reads it): the build fails with
    the reader's `CsvError`, read back from the runner's report, not Beam's RuntimeError."""
    from data import pipeline
    from data.beam_shards import pipeline_options
    from data.csv_options import CsvError

    path = write(tmp_path / "p.csv", LINES)
    spec = data.get_dataset("csv", data_dir=str(tmp_path / "tfds"), **dict(OPTIONS, train=path))
    write(path, LINES[:2] + ["44, Private,3, Divorced,900"] + LINES[2:])  # line 3: 5 cells
    builder = pipeline.builder(spec, str(tmp_path / "beam"))
    with pytest.raises(CsvError, match=r"p.csv, line 3: 5 cells, but the header has 7"):
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
            beam_options=pipeline_options("direct_num_workers=2,"
                                          "direct_running_mode=multi_threading")))


def test_beam_options_for_a_generated_dataset_are_a_config_error(tmp_path, capsys):
    import build_data

    assert build_data.main(["--config", "configs/mmoe_synthetic.yaml", "--set",
                            f"data.data_dir={tmp_path / 'tfds'}", "--beam_pipeline_options",
                            ""]) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: --beam_pipeline_options: dataset 'mmoe_synthetic' "
                          "builds in one process only; Beam builds the datasets of user "
                          "files: data.name: csv (or table"), err
    assert not list(tmp_path.rglob("*.tfrecord*"))  # refused before anything was built


@pytest.mark.parametrize("text, message", [
    ("runner=NoSuchRunner", "Unexpected pipeline runner: NoSuchRunner"),
    ("direct_num_workers=two", "argument --direct_num_workers: invalid int value: 'two'"),
    ("direct_num_worker=2", "Beam has no option 'direct_num_worker' (did you mean "
                            "direct_num_workers?)"),
])
def test_beam_options_beam_rejects_are_its_message(tmp_path, capsys, text, message):
    import build_data

    path = tmp_path / "c.csv"
    write(path, LINES)
    config = tmp_path / "config.yaml"
    config.write_text(f"data:\n  name: csv\n  data_dir: {tmp_path / 'tfds'}\n  options:\n"
                      f"    train: {path}\n    header: false\n"
                      f"    column_names: {list(OPTIONS['column_names'])}\n"
                      f"    labels: {{income: binary}}\n")
    assert build_data.main(["--config", str(config), "--beam_pipeline_options", text]) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: --beam_pipeline_options: ") and message in err, err
    assert "Traceback" not in err
