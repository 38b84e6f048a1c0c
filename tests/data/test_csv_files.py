"""Real-world CSV files through config options only: headerless, compressed, sharded, spaces
after the delimiter, `?` cells, excluded columns, derived labels, the schema report and its
cache, streaming in blocks, and errors that name the file and its own line numbers."""

import bz2
import gzip
import lzma
import os

import numpy as np
import pyarrow as pa
import pytest

import data
from data import csv_dataset, csv_reader, csv_schema
from data.csv_options import CsvError, make_options
from data.csv_schema import analysis, cli, stats
from tests.data.helpers import whole_split

NAMES = ["age", "worker", "code", "marital", "wage", "weight", "income"]
# As the census-income file writes them: no header, a space before text cells, "?" unknown.
LINES = [
    "39, Private,12, Never married,1200,1.5, - 50000.",
    "51, Self-employed-not incorporated,12, Married-civilian spouse present,?,2.5, 50000+.",
    "23, ?,7, Never married,800,0.5, - 50000.",
    "45, Private,?, Divorced,0,1.0, 50000+.",
    "30, Local government,7, Never married,1500,3.0, - 50000.",
    "62, Private,3, Married-civilian spouse present,2500,2.0, 50000+.",
]
OPTIONS = dict(
    header=False, column_names=NAMES, extra_na_values=["?"], exclude=["weight"],
    feature_types={"code": "categorical"}, split={"validation": 0, "test": 0},
    labels={"income": "binary",
            "never_married": {"kind": "binary", "column": "marital",
                              "positive": ["Never married"]},
            "wage": "regression"})


def write(path, lines, opener=open):
    with opener(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return str(path)


def write_zstd(path, lines):
    with pa.CompressedOutputStream(str(path), "zstd") as f:
        f.write(("\n".join(lines) + "\n").encode())
    return str(path)


@pytest.fixture
def shards(tmp_path):
    """The rows as two gzip shards (a glob) and the same rows as one plain file."""
    write(tmp_path / "part-0.csv.gz", LINES[:4], gzip.open)
    write(tmp_path / "part-1.csv.gz", LINES[4:], gzip.open)
    return str(tmp_path / "part-*.csv.gz")


def get(tmp_path, **options):
    return data.get_dataset("csv", data_dir=str(tmp_path / "tfds"), **options)


def test_headerless_gzip_shards_with_spaces_and_question_marks(shards, tmp_path):
    spec = get(tmp_path, train=shards, **OPTIONS)
    inputs = {i.name: i for i in spec.inputs}
    # The label source (marital) and the excluded weight are not features.
    assert list(inputs) == ["age", "worker", "code"]
    assert inputs["worker"].vocabulary == ("Private", "Local government",
                                           "Self-employed-not incorporated")
    assert inputs["worker"].strip_whitespace and "?" in inputs["worker"].na_values
    assert inputs["code"].kind == "categorical" and inputs["code"].vocabulary == ("12", "7", "3")
    assert inputs["age"].mean == pytest.approx(np.mean([39, 51, 23, 45, 30, 62]))
    tasks = {t.name: t for t in spec.tasks}
    assert tasks["income"].classes == ("- 50000.", "50000+.")
    assert tasks["never_married"].classes == ("no", "yes")
    # Regression targets: statistics of the training labels, stored labels in their units.
    wages = [1200, 800, 0, 1500, 2500]
    assert tasks["wage"].target_mean == pytest.approx(np.mean(wages))
    assert tasks["wage"].target_std == pytest.approx(np.std(wages))

    x, y, m = whole_split(spec, "train", str(tmp_path / "tfds"))
    assert x["worker"].tolist() == [b"Private", b"Self-employed-not incorporated", b"",
                                    b"Private", b"Local government", b"Private"]
    assert x["code"].tolist() == [b"12", b"12", b"7", b"", b"7", b"3"]
    np.testing.assert_array_equal(y["never_married"][:, 0], [1, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(y["income"][:, 0], [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(m["wage"], [1, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(y["wage"][:, 0], [1200, 0, 800, 0, 1500, 2500])

    # The report: roles, types, missing cells, and the label counts per split.
    schema = spec.builder_kwargs["config"].schema
    rows = {r["column"]: r for r in schema.report}
    assert rows["marital"]["role"] == "label source (never_married)"
    assert rows["weight"]["role"] == "excluded"
    assert (rows["worker"]["type"], rows["worker"]["missing"]) == ("categorical", 1)
    assert schema.label_counts["wage"]["train"] == {"labelled": 5, "missing": 1}
    text = schema.format()
    assert "label source (never_married)" in text and "wage 5 labelled" not in text
    assert "task wage (regression; target mean 1200, std 822.2): train 5 labelled / 1 missing" \
        in text


def test_compressions_and_plain_give_the_same_dataset(tmp_path):
    lines = [",".join(NAMES)] + [line.replace(", ", ",") for line in LINES]
    files = {"plain.csv": write(tmp_path / "plain.csv", lines),
             "b.csv.bz2": write(tmp_path / "b.csv.bz2", lines, bz2.open),
             "x.csv.xz": write(tmp_path / "x.csv.xz", lines, lzma.open),
             "z.csv.zst": write_zstd(tmp_path / "z.csv.zst", lines),
             # gzip bytes without the extension: recognised by their magic number.
             "g.csv": write(tmp_path / "g.csv", lines, gzip.open)}
    options = dict(OPTIONS, header=None, column_names=None)
    specs = {name: get(tmp_path, train=path, **options) for name, path in files.items()}
    first = specs.pop("plain.csv")
    for name, spec in specs.items():
        assert spec.inputs == first.inputs and spec.tasks == first.tasks, name


def test_streaming_in_tiny_blocks_gives_the_same_schema(tmp_path, monkeypatch):
    """Many blocks: moments merged, value counts compacted, and a column that looks numeric
    for its first blocks and then holds text is recounted from the start."""
    rng = np.random.default_rng(0)
    lines = ["x,c,late,y"]
    for i in range(400):
        late = "text" if i == 350 else str(i % 7)
        lines.append(f"{rng.normal():.4f},{'abcde'[i % 5]},{late},{i % 2}")
    path = write(tmp_path / "s.csv", lines)
    options = make_options(train=path, labels={"y": "binary"}, split={"validation": 0.2})
    whole = csv_schema.analyze(options)
    monkeypatch.setattr(csv_reader, "BLOCK_SIZE", 256)
    monkeypatch.setattr(stats, "COMPACT_AT", 3)
    blocks = list(csv_reader.CsvFile.open(path, options).blocks())
    assert len(blocks) > 20
    streamed = csv_schema.analyze(options)
    assert streamed.tasks == whole.tasks and streamed.rows == whole.rows
    for a, b in zip(streamed.inputs, whole.inputs):
        assert (a.name, a.kind, a.vocabulary) == (b.name, b.kind, b.vocabulary)
        if a.kind == "numeric":  # merged moments: equal to rounding
            assert a.mean == pytest.approx(b.mean) and a.variance == pytest.approx(b.variance)
        else:
            assert a.fill_value == b.fill_value
    late = {i.name: i for i in streamed.inputs}["late"]
    assert late.kind == "categorical" and len(late.vocabulary) in (7, 8)
    counts = dict(zip(*stats.ValueCounter.result(_counter(blocks, "late"))))
    assert sum(counts.values()) == 400


def _counter(blocks, column):
    counter = stats.ValueCounter()
    for _, batch in blocks:
        counter.update(batch.column(column))
    return counter


def test_schema_is_cached_beside_the_data_and_reused(shards, tmp_path, monkeypatch, capsys):
    spec = get(tmp_path, train=shards, **OPTIONS)
    name = spec.builder_kwargs["config"].name
    cache = tmp_path / "tfds" / "multi_task_csv" / name / csv_schema.SCHEMA_FILE
    assert cache.exists()
    # Another process (no in-memory copy) reads it back instead of analysing again.
    monkeypatch.setattr(csv_dataset, "_SCHEMAS", {})
    monkeypatch.setattr(analysis, "analyze", lambda options: pytest.fail("analysed again"))
    again = get(tmp_path, train=shards, **OPTIONS)
    assert again.tasks == spec.tasks and again.inputs == spec.inputs
    # The built dataset carries the report and the counts in its metadata.
    from data import pipeline
    meta = pipeline.prepare(again, str(tmp_path / "tfds")).info.metadata
    assert "marital  label source (never_married)" in capsys.readouterr().err  # printed
    assert meta["label_counts"]["never_married"]["train"]["labelled"] == 6
    assert {r["column"] for r in meta["schema_report"]} == set(NAMES)


def test_schema_command_prints_the_report(shards, capsys):
    code = cli.main([shards, "--labels", "{income: binary, never_married: {kind: binary,"
                            " column: marital, positive: [Never married]}}",
                            "--set", f"column_names={NAMES}", "--set", "extra_na_values=['?']",
                            "--set", "exclude=[weight]"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "label source (never_married)" in out
    assert "excluded" in out and "task income (binary: - 50000., 50000+.)" in out
    # Without labels it still describes the columns.
    assert cli.main([shards, "--set", f"column_names={NAMES}"]) == 0
    assert "code" in capsys.readouterr().out


def test_looks_categorical_hint(tmp_path):
    lines = ["year,code,amount,y"] + [f"{94 + i % 2},{i % 12},{i * 1.5},{i % 2}" for i in range(300)]
    schema = csv_schema.analyze(make_options(train=write(tmp_path / "h.csv", lines),
                                             labels={"y": "binary"}))
    notes = {r["column"]: r["note"] for r in schema.report}
    assert notes["year"].startswith("looks categorical (2 integer values)")
    assert "feature_types: {code: categorical}" in notes["code"]
    assert notes["amount"] == ""


def test_errors_name_the_file_and_its_own_line(tmp_path):
    good = write(tmp_path / "p-0.csv.gz", LINES, gzip.open)
    bad_lines = LINES[:2] + ["44, Private,3, Divorced,900"] + LINES[2:]  # line 3: 5 cells
    write(tmp_path / "p-1.csv.gz", bad_lines, gzip.open)
    with pytest.raises(CsvError, match=r"p-1.csv.gz, line 3: 5 cells, but the header has 7"):
        get(tmp_path, train=str(tmp_path / "p-*.csv.gz"), **OPTIONS)
    # A value error in a compressed validation file: its line, its column.
    val = write(tmp_path / "v.csv.bz2", LINES[:4] + ["x39, Private,1, Divorced,1,1, - 50000."],
                bz2.open)
    with pytest.raises(CsvError, match=r"v.csv.bz2, line 5, column 'age': numeric feature "
                                       r"'x39' is not a number"):
        spec = get(tmp_path, train=good, validation=val, **OPTIONS)
        from data import pipeline
        pipeline.prepare(spec, str(tmp_path / "tfds"))
    wage = write(tmp_path / "w.csv.xz", LINES[:5] + ["39, Private,1, Divorced,cheap,1, 50000+."],
                 lzma.open)
    with pytest.raises(CsvError, match=r"w.csv.xz, line 6, column 'wage': regression label "
                                       r"'cheap' is not a number"):
        get(tmp_path, train=wage, **OPTIONS)
    # Headerless files without names: the error says what to do.
    plain = write(tmp_path / "n.csv", ["1,?,?,0", "2,a,?,1"])
    with pytest.raises(CsvError, match=r"duplicate column name\(s\) \['\?'\] in the header "
                                       r"\(line 1\); if the file has no header row, give "
                                       r"data.options.column_names"):
        get(tmp_path, train=plain, labels={"y": "binary"})
    with pytest.raises(CsvError, match="names 3 columns"):
        get(tmp_path, train=plain, header=False, column_names=["a", "b", "y"],
            labels={"y": "binary"})


def test_option_errors_name_the_key_and_the_valid_values(shards, tmp_path):
    def error(match, **changes):
        with pytest.raises(CsvError, match=match):
            get(tmp_path, **dict(dict(OPTIONS, train=shards), **changes))

    error(r"data.options.header: false needs data.options.column_names", column_names=None)
    error(r"no file matches \(data.options.train\)", train=str(tmp_path / "nothing-*.csv"))
    error(r"data.options.labels.never_married: unknown key\(s\) \['positives'\] for kind binary; "
          r"valid keys: kind, column, classes, positive",
          labels={"never_married": {"kind": "binary", "column": "marital",
                                    "positives": ["x"]}})
    error(r"data.options.labels.m: unknown key\(s\) \['positive'\] for kind multiclass",
          labels={"m": {"kind": "multiclass", "column": "marital", "positive": ["x"]}})
    error(r"data.options.labels.nm.positive: \['Nevermarried'\] must match some but not all",
          labels={"nm": {"kind": "binary", "column": "marital", "positive": "Nevermarried"}})
    error(r"label column 'status' \(data.options.labels.nm.column\) not found",
          labels={"nm": {"kind": "binary", "column": "status", "positive": "x"}})
    error(r"data.options.features: 'marital' is the source of a label", features=["age",
                                                                                   "marital"])
    error(r"column 'height' \(data.options.exclude\) not found", exclude=["height"])
    with pytest.raises(ValueError, match=r"data.options.split.validation: 1.5 is out of range; "
                                         r"valid: a mapping to numbers in \[0, 1\)"):
        get(tmp_path, **dict(OPTIONS, train=shards, split={"validation": 1.5}))


def test_na_values_replace_and_extra_na_values_add(tmp_path):
    path = write(tmp_path / "na.csv", ["c,y", "NA,0", "-,1", "a,0", "b,1", "a,0"])
    specs = {
        "default": get(tmp_path, train=path, labels={"y": "binary"}, split={"validation": 0}),
        "extra": get(tmp_path, train=path, labels={"y": "binary"}, split={"validation": 0},
                     extra_na_values=["-"]),
        "replaced": get(tmp_path, train=path, labels={"y": "binary"}, split={"validation": 0},
                        na_values=["-"]),
    }
    vocab = {k: set(s.inputs[0].vocabulary) for k, s in specs.items()}
    assert vocab == {"default": {"a", "b", "-"}, "extra": {"a", "b"},
                     "replaced": {"a", "b", "NA"}}


def test_census_example_files_are_current(tmp_path):
    """examples/census/ is what examples/make_census_csv.py writes."""
    import importlib.util

    from tests.helpers import REPO

    path = os.path.join(REPO, "examples", "make_census_csv.py")
    module_spec = importlib.util.spec_from_file_location("make_census_csv", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    module.main(str(tmp_path))
    for name in module.FILES:
        with gzip.open(tmp_path / name) as new, gzip.open(os.path.join(module.FOLDER, name)) as old:
            assert new.read() == old.read(), name
