"""A CSV dataset end to end, as a new user's file arrives: configs/csv_census.yaml (headerless
.csv.gz shards, a space before every text cell, `?` cells, an excluded column, integer codes
declared categorical, a label derived from another column) trains from config options alone.
Raw file rows (whitespace, `?` and missing cells, unseen categories, integers for float
columns) sent to the served model over REST and gRPC answer exactly as the in-process model
answers on the training-time normalised rows; regression outputs are in the file's units;
class names are served. Then the CLI path (train.py -> export.py -> serve.py) on
configs/csv_example.yaml."""

import csv
import gzip
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest
import tensorflow as tf

import models
from data.csv_cells import Cells
from models.export import export_saved_model
from tests.data.helpers import whole_split
from tests.helpers import REPO, http_json, serve_subprocess
from training.config import load_config
from training.experiment import Experiment

CENSUS = os.path.join(REPO, "configs", "csv_census.yaml")
TEST_FILE = os.path.join(REPO, "examples", "census", "census-test.csv.gz")
EXAMPLE = os.path.join(REPO, "configs", "csv_example.yaml")
CUSTOMERS = os.path.join(REPO, "examples", "customers.csv")
CUSTOMER_COLUMNS = ("age", "city", "device", "tenure_months", "monthly_visits")
CUSTOMER_ROWS = [
    {"age": 30.0, "city": "paris", "device": "ios", "tenure_months": 12.0, "monthly_visits": 3.5},
    {"age": 61.0, "city": "", "device": "web", "tenure_months": 40.0, "monthly_visits": 15.0},
    {"age": 45.0, "city": "tokyo", "device": "android", "tenure_months": 2.0,
     "monthly_visits": 0.0},
]


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    """The census config trained briefly, exported and served in-process (REST and gRPC)."""
    from serving.flags import parse_flags
    from serving.server import ModelServer

    root = tmp_path_factory.mktemp("census")
    tfds_dir = str(root / "tfds")
    config = load_config(CENSUS, [f"data.data_dir={tfds_dir}", f"data.options.data_dir={tfds_dir}",
                                  "train.epochs=4"])
    options = config.data.options  # relative to the repo in the config
    options["train"] = os.path.join(REPO, options["train"])
    options["test"] = os.path.join(REPO, options["test"])
    experiment = Experiment(config)
    metrics = experiment.train(str(root / "run"), verbose=0)
    model = models.load_model(str(root / "run" / "best.keras"))
    base = str(root / "exported" / "census")
    export_saved_model(model, base)
    server = ModelServer(parse_flags(["--port=0", "--rest_api_port=-1", "--model_name=census",
                                      f"--model_base_path={base}"])).start()
    try:
        yield experiment, model, metrics, server
    finally:
        server.stop()


def raw_rows():
    """The test file's rows exactly as written (" Private", " ?", "47")."""
    names = load_config(CENSUS, []).data.options["column_names"]
    with gzip.open(TEST_FILE, "rt", newline="") as f:
        return [dict(zip(names, cells)) for cells in csv.reader(f)]


def as_request(rows, specs):
    """What a client sends for raw rows: numbers as JSON numbers (integers where the cell is
    one, NaN where it is missing), text cells untouched. Only the model's inputs."""
    out = []
    for row in rows:
        instance = {}
        for spec in specs:
            cell = row[spec.name]
            if spec.kind == "numeric":
                text = cell.strip()
                instance[spec.name] = (float("nan") if text in ("", "?") else
                                       int(text) if text.lstrip("-").isdigit() else float(text))
            else:
                instance[spec.name] = cell
        out.append(instance)
    return out


def columns(instances, specs):
    return {s.name: np.array([r[s.name] for r in instances],
                             dtype=np.float32 if s.kind == "numeric" else object) for s in specs}


def normalised(instances, specs, options):
    """The rows as training normalised them (the builder's own rules, `data.csv_cells`)."""
    cells, out = Cells(options), {}
    for s in specs:
        raw = pa.array([str(r[s.name]) for r in instances])
        if s.kind == "numeric":
            out[s.name] = np.array([r[s.name] for r in instances], np.float32)
        else:
            values, missing = cells.text(raw)
            text = values.to_numpy(zero_copy_only=False).astype(object)
            text[missing] = ""
            out[s.name] = text
    return out


def assert_answers_equal(served, expected, tasks):
    for task in tasks:
        for key, want in task.serving_outputs(expected[task.name]).items():
            got, want = np.asarray(served[key]), np.asarray(want)
            if want.dtype.kind == "O":
                decode = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else v,
                                      otypes=[object])
                np.testing.assert_array_equal(decode(got), decode(want), err_msg=key)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4, err_msg=key)


def test_trains_from_options_and_serves_raw_rows_over_rest_and_grpc(census):
    from serving.client import GrpcClient

    experiment, model, metrics, server = census
    specs = experiment.spec.inputs
    names = [s.name for s in specs]
    # The label source and the excluded weight are not model inputs.
    assert "marital_stat" not in names and "instance_weight" not in names
    assert set(metrics) == {"income", "never_married", "wage_per_hour"}

    # Raw test-file rows against the in-process model on the stored (normalised) test split.
    rows = as_request(raw_rows(), specs)
    assert any(r["class_of_worker"] == " ?" for r in rows)
    assert any(isinstance(r["age"], int) for r in rows)  # integers for a float column
    x_test, _, _ = whole_split(experiment.spec, "test", experiment.data_dir)
    expected = model.predict({k: tf.constant(v) for k, v in x_test.items()}, verbose=0)
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/census:predict"
    status, body = http_json("POST", url, {"instances": rows})
    assert status == 200, body
    served = {k: np.array([r[k] for r in body["predictions"]]) for k in body["predictions"][0]}
    assert_answers_equal(served, expected, model.tasks)
    # Class names, in the file's own spelling, beside the probabilities.
    assert set(served["income_label"]) <= {"- 50000.", "50000+."}
    assert set(served["never_married_label"]) <= {"no", "yes"}

    # Crafted rows: unseen categories, whitespace-only and "?" cells, a missing number.
    crafted = [dict(rows[0], class_of_worker=" Armed Forces", education="   "),
               dict(rows[1], industry_code=" ?", age=float("nan"), sex="Female "),
               dict(rows[2], year="96", weeks_worked=52)]
    options = experiment.spec.builder_kwargs["config"].options
    expected = model.predict(normalised(crafted, specs, options), verbose=0)
    grpc = GrpcClient("127.0.0.1", server.grpc_port)
    try:
        assert_answers_equal(grpc.predict("census", columns(crafted, specs)), expected,
                             model.tasks)
        assert_answers_equal(grpc.predict("census", columns(rows[:5], specs)),
                             model.predict(columns(rows[:5], specs), verbose=0), model.tasks)
    finally:
        grpc.close()
    status, body = http_json("POST", url, {"instances": crafted})
    assert status == 200, body
    served = {k: np.array([r[k] for r in body["predictions"]]) for k in body["predictions"][0]}
    assert_answers_equal(served, expected, model.tasks)


def test_regression_in_the_files_units_and_imputation_in_the_model(census):
    experiment, model, metrics, _ = census
    wage = experiment.spec.task("wage_per_hour")
    assert wage.target_mean > 100 and wage.target_std > 100  # cents
    specs = experiment.spec.inputs
    x = columns(as_request(raw_rows()[:8], specs), specs)
    outputs, logits, _ = model.training_view()(x, training=False)
    # The output layer undoes the standardisation the loss saw.
    np.testing.assert_allclose(np.asarray(outputs["wage_per_hour"]),
                               np.asarray(logits["wage_per_hour"]) * wage.target_std
                               + wage.target_mean, rtol=1e-5, atol=1e-3)
    # Metrics are in cents too: far above the standardised scale.
    assert metrics["wage_per_hour"]["rmse"] > 50

    by_name = {s.name: s for s in specs}

    def predict(**changes):
        row = {k: v[:1].copy() for k, v in x.items()}
        for k, v in changes.items():
            row[k] = np.array([v], dtype=row[k].dtype)
        return model.predict(row, verbose=0)

    for name, value in predict().items():
        # NaN -> training mean; "", " ?" -> most frequent; unseen -> the shared OOV bucket.
        np.testing.assert_allclose(predict(age=np.nan)[name],
                                   predict(age=by_name["age"].mean)[name], rtol=1e-5)
        fill = by_name["class_of_worker"].fill_value
        for missing in ("", " ?", "?", "  "):
            np.testing.assert_allclose(predict(class_of_worker=missing)[name],
                                       predict(class_of_worker=fill)[name], rtol=1e-5)
        np.testing.assert_allclose(predict(class_of_worker=" Private ")[name],
                                   predict(class_of_worker="Private")[name], rtol=1e-5)
        np.testing.assert_allclose(predict(education="tokyo")[name],
                                   predict(education="atlantis")[name], rtol=1e-5)


def test_the_models_strip_is_the_builders_strip():
    """`tf.strings.strip` (in the exported model) strips exactly the characters
    pyarrow's `ascii_trim_whitespace` (at training time) strips."""
    chars = [chr(i) for i in range(128)] + ["\u00a0", "\u2003", "\u3000", "\ufeff"]
    cells = [f"{c}a{c}" for c in chars]
    ours = pa.compute.ascii_trim_whitespace(pa.array(cells)).to_pylist()
    theirs = [v.decode() for v in tf.strings.strip(tf.constant(cells)).numpy().tolist()]
    assert ours == theirs


def run(*args, cwd=REPO):
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
def test_cli_train_export_serve_rest(tmp_path):
    run_dir, base = str(tmp_path / "run"), str(tmp_path / "exported" / "customers")
    tfds_dir = tmp_path / "tfds"
    # cwd is the repo root, where the config's relative CSV path points.
    run("train.py", "--config", EXAMPLE, "--output", run_dir,
        "--set", f"data.data_dir={tfds_dir}", "--set", f"data.options.data_dir={tfds_dir}",
        "--set", "train.epochs=2")
    run("export.py", "--run", run_dir, "--export_base", base)
    expected = models.load_model(os.path.join(run_dir, "best.keras")).predict(
        {c: np.array([r[c] for r in CUSTOMER_ROWS], dtype=object if c in ("city", "device")
                     else np.float32) for c in CUSTOMER_COLUMNS}, verbose=0)
    with serve_subprocess("customers", base, str(tmp_path / "server.log")) as (url, _):
        # Row format: one JSON object of raw column values per instance.
        status, body = http_json("POST", url + ":predict", {"instances": CUSTOMER_ROWS})
        assert status == 200, body
        for i, row in enumerate(body["predictions"]):
            np.testing.assert_allclose(row["plan"], expected["plan"][i], atol=1e-5)
            np.testing.assert_allclose(row["interests"], expected["interests"][i], atol=1e-5)
            np.testing.assert_allclose(row["spend"], expected["spend"][i, 0], atol=1e-3)
            np.testing.assert_allclose(row["churned"], expected["churned"][i, 0], atol=1e-5)
            assert row["plan_label"] == ("basic", "plus", "pro")[int(np.argmax(row["plan"]))]
        # Columnar format gives the same answers.
        status, body = http_json("POST", url + ":predict",
                                 {"inputs": {c: [r[c] for r in CUSTOMER_ROWS]
                                             for c in CUSTOMER_COLUMNS}})
        assert status == 200, body
        np.testing.assert_allclose(body["outputs"]["plan"], expected["plan"], atol=1e-5)
