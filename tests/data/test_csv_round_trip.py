"""A CSV dataset end to end: train tiny, predict on raw CSV-style values in Keras (missing and
unseen values included), then `train.py` -> `export.py` -> `serve.py` and REST predictions."""

import os
import subprocess
import sys

import numpy as np
import pytest

import models
from tests.helpers import REPO, http_json, serve_subprocess
from training.config import load_config
from training.experiment import Experiment

CONFIG = os.path.join(REPO, "configs", "csv_example.yaml")
CSV = os.path.join(REPO, "examples", "customers.csv")
COLUMNS = ("age", "city", "device", "tenure_months", "monthly_visits")

# Raw rows as a client would send them: an empty city, an unseen city, a NaN age.
RAW = [
    {"age": 30.0, "city": "paris", "device": "ios", "tenure_months": 12.0, "monthly_visits": 3.5},
    {"age": 61.0, "city": "", "device": "web", "tenure_months": 40.0, "monthly_visits": 15.0},
    {"age": 45.0, "city": "tokyo", "device": "android", "tenure_months": 2.0,
     "monthly_visits": 0.0},
]

def columns(rows):
    """Row dicts -> the model's input dict of arrays (strings stay strings)."""
    return {c: np.array([r[c] for r in rows], dtype=object if isinstance(rows[0][c], str)
                        else np.float32) for c in COLUMNS}

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("csv_round_trip")
    config = load_config(CONFIG, [f"data.data_dir={root / 'tfds'}", "train.epochs=3"])
    config["data"]["options"]["train"] = CSV  # the config's path is relative to the repo
    experiment = Experiment(config)
    metrics = experiment.train(str(root / "run"), verbose=0)
    return experiment, models.load_model(str(root / "run" / "best.keras")), metrics

def test_keras_model_takes_raw_values(trained):
    experiment, model, metrics = trained
    assert set(metrics) == {"churned", "plan", "spend", "interests"}
    specs = {s.name: s for s in experiment.spec.inputs}
    out = model.predict(columns(RAW), verbose=0)
    assert out["plan"].shape == (3, 3) and out["interests"].shape == (3, 4)
    assert all(np.all(np.isfinite(v)) for v in out.values())

    def predict(**changes):
        return model.predict(columns([dict(RAW[0], **changes)]), verbose=0)

    # Missing values are imputed inside the model: NaN -> training mean, "" -> most frequent.
    for name in out:
        np.testing.assert_allclose(predict(age=float("nan"))[name],
                                   predict(age=specs["age"].mean)[name], rtol=1e-5)
        np.testing.assert_allclose(predict(city="")[name],
                                   predict(city=specs["city"].fill_value)[name], rtol=1e-5)
        # Unseen categories share the out-of-vocabulary bucket.
        np.testing.assert_allclose(predict(city="tokyo")[name], predict(city="atlantis")[name],
                                   rtol=1e-5)

def run(*args, cwd=REPO):
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout

@pytest.mark.slow
def test_cli_train_export_serve_rest(tmp_path):
    run_dir, base = str(tmp_path / "run"), str(tmp_path / "exported" / "customers")
    # cwd is the repo root, where the config's relative CSV path points.
    run("train.py", "--config", CONFIG, "--output", run_dir,
        "--set", f"data.data_dir={tmp_path / 'tfds'}", "--set", "train.epochs=2")
    run("export.py", "--run", run_dir, "--export_base", base)
    expected = models.load_model(os.path.join(run_dir, "best.keras")).predict(columns(RAW),
                                                                              verbose=0)
    with serve_subprocess("customers", base, str(tmp_path / "server.log")) as (url, _):
        # Row format: one JSON object of raw column values per instance.
        status, body = http_json("POST", url + ":predict", {"instances": RAW})
        assert status == 200, body
        rows = body["predictions"]
        for i, row in enumerate(rows):
            np.testing.assert_allclose(row["plan"], expected["plan"][i], atol=1e-5)
            np.testing.assert_allclose(row["interests"], expected["interests"][i], atol=1e-5)
            np.testing.assert_allclose(row["spend"], expected["spend"][i, 0], atol=1e-4)
            np.testing.assert_allclose(row["churned"], expected["churned"][i, 0], atol=1e-5)
        # Columnar format gives the same answers.
        status, body = http_json("POST", url + ":predict",
                                 {"inputs": {c: [r[c] for r in RAW] for c in COLUMNS}})
        assert status == 200, body
        np.testing.assert_allclose(body["outputs"]["plan"], expected["plan"], atol=1e-5)
