"""The `csv` dataset: typing, statistics from training rows only, labels and masks,
splits, metadata, and clear errors (file, line, column; config key and valid values)."""

import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

import data
from data import pipeline
from data.csv_options import CsvError
from tests.data.helpers import whole_split, write_csv

HEADER = ["Age", "city", "score", "churned", "plan", "spend", "tags"]
ROWS = [
    ["30", "paris", "1.5", "yes", "basic", "10.0", "a|b"],
    ["", "rome", "2.5", "no", "pro", "", "none"],
    ["50", "", "3.5", "", "plus", "30.0", "b"],
    ["40", "paris", "", "no", "", "20.0", ""],
    ["20", "oslo", "0.5", "yes", "basic", "5", "c"],
]
LABELS = {"churned": "binary", "plan": "multiclass", "spend": "regression", "tags": "multilabel"}


@pytest.fixture
def files(tmp_path):
    train = write_csv(tmp_path / "train.csv", HEADER, ROWS)
    # Validation holds an extreme age: statistics must ignore it.
    val = write_csv(tmp_path / "val.csv", HEADER, [["1000", "tokyo", "9", "yes", "pro", "1", "a"]])
    test = write_csv(tmp_path / "test.tsv", HEADER, [["35", "rome", "1", "no", "plus", "7", "a|c"]],
                     delimiter="\t")
    # data_dir: where the schema is cached (beside the built data), never the repo's tfds_data/.
    return dict(train=train, validation=val, test=test, data_dir=str(tmp_path / "tfds"))


def test_types_statistics_labels(files, tmp_path):
    spec = data.get_dataset("csv", labels=LABELS, **files)
    inputs = {i.name: i for i in spec.inputs}
    assert list(inputs) == ["age", "city", "score"]  # column names become identifiers
    assert inputs["age"].kind == "numeric" and inputs["city"].kind == "categorical"
    assert inputs["age"].mean == pytest.approx(35.0)   # train only: 30, 50, 40, 20
    assert inputs["age"].variance == pytest.approx(125.0)
    assert inputs["age"].fill_value == pytest.approx(35.0)
    assert inputs["city"].vocabulary == ("paris", "oslo", "rome")  # by frequency, then name
    assert inputs["city"].fill_value == "paris"
    tasks = {t.name: t for t in spec.tasks}
    assert tasks["churned"].classes == ("no", "yes")
    assert tasks["plan"].classes == ("basic", "plus", "pro")
    assert tasks["tags"].classes == ("a", "b", "c")

    x, y, m = whole_split(spec, "train", str(tmp_path / "tfds"))
    assert np.isnan(x["age"][1]) and x["city"][2] == b""  # raw: the model imputes
    np.testing.assert_array_equal(m["churned"], [1, 1, 0, 1, 1])
    np.testing.assert_array_equal(y["churned"][:, 0], [1, 0, 0, 0, 1])
    np.testing.assert_array_equal(m["plan"], [1, 1, 1, 0, 1])
    np.testing.assert_array_equal(y["plan"], [0, 2, 1, 0, 0])
    np.testing.assert_array_equal(m["spend"], [1, 0, 1, 1, 1])
    np.testing.assert_allclose(y["spend"][:, 0], [10, 0, 30, 20, 5])
    np.testing.assert_array_equal(m["tags"], [1, 1, 1, 0, 1])  # "none" is a label, "" is not
    np.testing.assert_array_equal(y["tags"][:3], [[1, 1, 0], [0, 0, 0], [0, 1, 0]])
    # The TSV test file is read with a tab delimiter; the OOV city stays raw.
    x_test, y_test, _ = whole_split(spec, "test", str(tmp_path / "tfds"))
    assert x_test["city"][0] == b"rome" and y_test["tags"][0].tolist() == [1, 0, 1]
    assert whole_split(spec, "validation", str(tmp_path / "tfds"))[0]["city"][0] == b"tokyo"


def test_metadata_and_fingerprint(files, tmp_path):
    spec = data.get_dataset("csv", labels=LABELS, **files)
    builder = pipeline.prepare(spec, str(tmp_path))
    meta = builder.info.metadata
    assert [t["name"] for t in meta["tasks"]] == ["churned", "plan", "spend", "tags"]
    assert meta["inputs"][1]["vocabulary"] == ["paris", "oslo", "rome"]
    assert meta["columns"]["age"] == "Age"
    assert builder.builder_config.name.startswith("train-")
    # Editing the file gives another config: never a stale build.
    with open(files["train"], "a") as f:
        f.write("25,rome,1,no,basic,3,a\n")
    assert data.get_dataset("csv", labels=LABELS, **files).builder_kwargs["config"].name != \
        builder.builder_config.name
    # Readable by plain TFDS from the files alone.
    again = tfds.builder_from_directory(builder.data_dir)
    assert again.info.metadata["columns"]["age"] == "Age"
    rows = list(tfds.as_numpy(again.as_dataset(split="train")))
    assert [r["city"] for r in rows] == [b"paris", b"rome", b"", b"paris", b"oslo"]


def test_seeded_split(tmp_path):
    rows = [[str(i), "abc"[i % 3], str(i % 2)] for i in range(2000)]
    path = write_csv(tmp_path / "d.csv", ["x", "c", "y"], rows)
    tfds_dir = str(tmp_path / "tfds")
    options = dict(train=path, labels={"y": "binary"}, split={"validation": 0.25, "test": 0.1},
                   data_dir=tfds_dir)
    spec = data.get_dataset("csv", seed=1, **options)
    xs = {s: whole_split(spec, s, tfds_dir)[0]["x"] for s in spec.splits}
    # Each row is assigned by a seeded hash: the expected fractions, not exact counts.
    sizes = {s: len(v) for s, v in xs.items()}
    assert sum(sizes.values()) == 2000
    assert abs(sizes["validation"] - 500) < 70 and abs(sizes["test"] - 200) < 45, sizes
    assert sizes == spec.builder_kwargs["config"].schema.rows
    assert len(set(np.concatenate(list(xs.values())).tolist())) == 2000  # disjoint
    # Statistics come from the training rows only.
    assert spec.inputs[0].mean == pytest.approx(float(np.mean(xs["train"])))
    assert spec.inputs[0].variance == pytest.approx(float(np.var(xs["train"])), rel=1e-6)
    assert data.get_dataset("csv", seed=1, **options).inputs == spec.inputs
    assert data.get_dataset("csv", seed=2, **options).inputs[0].mean != spec.inputs[0].mean


def test_feature_selection_and_types(files):
    spec = data.get_dataset("csv", labels={"plan": "multiclass"}, features=["score", "Age"],
                            feature_types={"Age": "categorical"}, **files)
    assert [(i.name, i.kind) for i in spec.inputs] == [("score", "numeric"), ("age", "categorical")]
    given = data.get_dataset("csv", labels={"plan": {"kind": "multiclass",
                                                     "classes": ["pro", "plus", "basic"]}}, **files)
    assert given.tasks[0].classes == ("pro", "plus", "basic")


def error(match, **options):
    with pytest.raises(CsvError, match=match):
        data.get_dataset("csv", **options)


def test_errors_name_file_line_column(tmp_path, files):
    train = files["train"]
    error(rf"{train}: label column 'price' \(data.options.labels.price\) not found; columns: "
          "Age, city", train=train, labels={"price": "regression"})
    bad = write_csv(tmp_path / "bad.csv", ["x", "price"], [["1", "3"], ["2", "cheap"]])
    error(rf"{bad}, line 3, column 'price': regression label 'cheap' is not a number",
          train=bad, labels={"price": "regression"}, split={"validation": 0, "test": 0})
    empty = write_csv(tmp_path / "empty.csv", None, [])
    error(rf"{empty}: empty CSV \(no header row\)", train=empty, labels={"y": "binary"})
    header_only = write_csv(tmp_path / "h.csv", ["x", "y"], [])
    error(rf"{header_only}: no data rows", train=header_only, labels={"y": "binary"})
    ragged = write_csv(tmp_path / "r.csv", ["x", "y"], [["1", "0"], ["2"]])
    error(rf"{ragged}, line 3: 1 cells, but the header has 2 columns", train=ragged,
          labels={"y": "binary"})
    error(r"data.options.labels.plan: unknown kind 'category'; valid kinds: binary, multiclass, multilabel",
          train=train, labels={"plan": "category"})
    with pytest.raises(ValueError, match=r"data.options.feature_types.Age: unknown value 'int'; "
                                         r"valid: numeric, categorical"):
        data.get_dataset("csv", train=train, labels={"plan": "multiclass"},
                         feature_types={"Age": "int"})
    error(r"feature column 'nope' \(data.options.features\) not found", train=train,
          labels={"plan": "multiclass"}, features=["nope"])
    error(r"binary label needs 2 distinct values; found 3", train=train,
          labels={"plan": "binary"})
    v2 = write_csv(tmp_path / "v2.csv", HEADER, [["1", "x", "1", "no", "gold", "1", "a"]])
    error(rf"{v2}, line 2, column 'plan': unknown class 'gold'", train=train, validation=v2,
          labels={"plan": {"kind": "multiclass", "classes": ["basic", "plus", "pro"]}})
    error(r"file not found", train=str(tmp_path / "missing.csv"), labels={"y": "binary"})
    with pytest.raises(ValueError, match=r"data.options.train: required by dataset 'csv'"):
        data.get_dataset("csv")


def test_unknown_task_in_data_tasks_lists_the_csv_tasks(files, tmp_path):
    spec = data.get_dataset("csv", labels=LABELS, **files)
    with pytest.raises(ValueError, match="unknown task.*'churn'.*churned, plan, spend, tags"):
        pipeline.load_split(spec, "train", ["churn"], str(tmp_path), 2)


def test_example_file_is_current():
    """examples/customers.csv is what examples/make_customers_csv.py writes."""
    import importlib.util
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(repo, "examples", "make_customers_csv.py")
    module_spec = importlib.util.spec_from_file_location("make_customers_csv", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    rows = list(module.rows(160))
    with open(os.path.join(repo, "examples", "customers.csv")) as f:
        assert len(f.read().strip().splitlines()) == len(rows) + 1
