"""`data.name: conll` built by Beam's DirectRunner (`data.tagged.beam`): CoNLL-2003-style
and CoNLL-U files cut into byte ranges at blank lines (a tiny range size here) give the
one-process build's examples in its order; a bad line in a later range names its line in
the whole file; remote (`ram://`) files; `build_data.py --beam_pipeline_options` on a conll
config in worker processes."""

import os

import pytest

from data.csv_options import CsvError
from data.tagged import beam as tagged_beam
from tests.data.helpers import compare_beam_build
from tests.data.test_tagged import (COLUMNS, CONLL2003_TEST, CONLL2003_TRAIN, CONLL2003_VALID,
                                    CONLLU, spec_of, write)

THREADS = "direct_num_workers=2,direct_running_mode=multi_threading"


@pytest.fixture
def small_ranges(monkeypatch):
    """Ranges of about 150 bytes: a few sentences each."""
    monkeypatch.setattr(tagged_beam, "RANGE_BYTES", 150)


def ranges_of(spec, path):
    """The byte ranges Beam cuts `path` into (from a single-threaded run's planning)."""
    options = spec.builder_kwargs["config"].options
    return [(start, end) for _, _, p, start, end in tagged_beam.work_items(options, 1)
            if p == path]


def test_conll2003_ranges_give_the_one_process_examples_in_order(tmp_path, small_ranges):
    """Held-out test sentences drawn per sentence index (so each range must know the
    sentences before it), a gzip validation file (one range), -DOCSTART- lines."""
    files = {"train": write(tmp_path / "eng.train", CONLL2003_TRAIN * 4),
             "validation": write(tmp_path / "eng.testa.gz", f"{CONLL2003_VALID}\n" * 2,
                                 compress=True)}
    spec = spec_of(tmp_path, files, split={"test": 0.3})
    cut = ranges_of(spec, files["train"])
    assert len(cut) >= 4 and ranges_of(spec, files["validation"]) == [(0, None)]
    text = open(files["train"], "rb").read()
    assert all(text[:start].endswith(b"\n\n") for start, _ in cut[1:])  # after blank lines
    assert any(text[start:].startswith(b"-DOCSTART-") for start, _ in cut[1:])
    schema = spec.builder_kwargs["config"].schema
    assert schema.rows == {"train": 7, "validation": 2, "test": 1}  # test: the 8th sentence
    compare_beam_build(spec, tmp_path, THREADS, in_order=True)


def test_conllu_ranges_give_the_one_process_examples_in_order(tmp_path, small_ranges):
    """Comment lines go with the sentence after them; multiword ranges and empty nodes
    are skipped as in one process."""
    path = write(tmp_path / "tr.conllu", CONLLU * 4)
    test = write(tmp_path / "te.conllu", CONLLU)
    spec = spec_of(tmp_path, {"train": path, "test": test}, format="conllu", columns=None,
                   tasks={"upos": "UPOS", "deprel": "DEPREL"}, split={"validation": 0.5})
    cut = ranges_of(spec, path)
    text = open(path, "rb").read()
    assert len(cut) >= 3 and all(text[start:].startswith(b"# sent_id") for start, _ in cut[1:])
    compare_beam_build(spec, tmp_path, THREADS, in_order=True)


@pytest.mark.parametrize("bad, split", [("columns", None), ("columns", {"test": 0.3}),
                                        ("latin-1", {"test": 0.3})])
def test_a_bad_line_in_a_later_range_names_its_line_in_the_file(tmp_path, small_ranges, bad,
                                                                split):
    """The file breaks after its analysis (read by the Beam workers only): the worker's
    error names the file and the line counted from the file's start, not the range's;
    with held-out sentences the counting stage meets it first, and leaves it to the range."""
    import tensorflow_datasets as tfds

    from data import pipeline
    from data.beam_shards import pipeline_options

    path = write(tmp_path / "eng.train", CONLL2003_TRAIN * 4)
    files = {"train": path, "validation": write(tmp_path / "eng.testa", CONLL2003_VALID),
             "test": write(tmp_path / "eng.testb", CONLL2003_TEST)}
    spec = spec_of(tmp_path, files, **({"split": split, "test": None} if split else {}))
    text = (CONLL2003_TRAIN * 4).encode()
    good, broken, message = {
        "columns": (b"rejects VBZ B-VP O", b"rejects VBZ B-VP_O", "3 columns, expected 4 "
                    r"\(token pos chunk ner; separated by whitespace\): 'rejects VBZ B-VP_O'"),
        "latin-1": ("Köln".encode(), "Köln".encode("latin-1"), "not utf-8 text")}[bad]
    at = text.index(good, len(text) // 2)  # in the third copy
    (tmp_path / "eng.train").write_bytes(text[:at] + broken + text[at + len(good):])
    assert [start for start, _ in ranges_of(spec, path) if start <= at][-1] > 0  # a later one
    line = text[:at].count(b"\n") + 1
    builder = pipeline.builder(spec, str(tmp_path / "beam"))
    with pytest.raises(CsvError, match=rf"eng.train, line {line}: {message}"):
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
            beam_options=pipeline_options(THREADS)))


def test_beam_reads_remote_tagged_files_as_one_process_reads_local_ones(tmp_path,
                                                                        small_ranges):
    """The files on TensorFlow's `ram://` file system (the DirectRunner's threads share this
    process's memory), cut into ranges there: the examples of the local files."""
    from tests.data.test_file_system import to_ram

    local = {"train": write(tmp_path / "eng.train", CONLL2003_TRAIN * 4),
             "validation": write(tmp_path / "eng.testa", CONLL2003_VALID)}
    remote = {split: to_ram(path) for split, path in local.items()}
    spec = spec_of(tmp_path, remote, split={"test": 0.3})
    assert len(ranges_of(spec, remote["train"])) >= 3
    compare_beam_build(spec, tmp_path, THREADS, local_spec=spec_of(tmp_path, local,
                                                                   split={"test": 0.3}),
                       in_order=True)


def test_build_data_builds_conll_files_with_beam_in_worker_processes(tmp_path, capsys,
                                                                      small_ranges):
    """The command line, the DirectRunner's worker processes: the one-process examples."""
    import build_data
    from data import pipeline
    from tests.data.helpers import assert_same, whole_split

    files = {split: write(tmp_path / f"eng.{split}", text) for split, text in (
        ("train", CONLL2003_TRAIN * 4), ("validation", CONLL2003_VALID))}
    config = tmp_path / "config.yaml"
    config.write_text(f"data:\n  name: conll\n  data_dir: {tmp_path / 'tfds'}\n  options:\n"
                      f"    train: {files['train']}\n    validation: {files['validation']}\n"
                      f"    columns: {COLUMNS}\n    min_count: 1\n"
                      f"    tasks: {{ner: ner}}\n    split: {{test: 0.3}}\n")
    assert build_data.main(["--config", str(config), "--beam_pipeline_options",
                            "direct_num_workers=2,direct_running_mode=multi_processing"]) == 0
    out = capsys.readouterr().out
    assert "dataset conll in " in out and "with Beam)" in out, out
    spec = spec_of(tmp_path, files, tasks={"ner": "ner"}, split={"test": 0.3})
    built = pipeline.builder(spec, str(tmp_path / "tfds"))
    assert built.is_prepared()
    assert {s: i.num_examples for s, i in built.info.splits.items()} == \
        {"train": 7, "validation": 1, "test": 1}
    for split in spec.splits:
        for ours, theirs in zip(whole_split(spec, split, str(tmp_path / "tfds")),
                                whole_split(spec, split, str(tmp_path / "local"))):
            assert_same(ours, theirs)
