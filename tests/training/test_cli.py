"""train.py and evaluate.py end to end (in-process): configs, overrides, baselines,
Δm, gate weights, resume."""

import json
import os

import pytest

import evaluate
import train
from training.config import ConfigError, load_config

SMALL = ["data.name=mmoe_synthetic", "data.tasks=[]",
         "data.options={train_size: 128, validation_size: 64, test_size: 64, dim: 8}",
         "model.architecture=mmoe", "model.encoder=mlp", "model.encoder_args={units: [8]}",
         "model.args={num_experts: 2, expert_units: [8], tower_units: [4]}",
         "train.epochs=2", "train.batch_size=32"]


def sets(extra=()):
    out = []
    for s in SMALL + list(extra):
        out += ["--set", s]
    return out


def test_unknown_key_fails_listing_the_valid_ones(capsys):
    with pytest.raises(ConfigError, match="valid keys under train: .*gradient_on.*weighting"):
        load_config(None, ["train.weightin=pcgrad"])
    assert train.main(["--config", "configs/tiny.yaml", "--set", "model.nope=1"]) == 2
    assert "valid keys under model" in capsys.readouterr().err


def test_overrides_reach_any_key():
    cfg = load_config("configs/tiny.yaml", ["train.gradient_on=parameters",
                                            "train.weighting_args={c: 0.5}", "data.tasks=left,right"])
    assert cfg["train"]["gradient_on"] == "parameters"
    assert cfg["train"]["weighting_args"] == {"c": 0.5}
    assert cfg["data"]["tasks"] == ["left", "right"]


@pytest.mark.parametrize("override, message", [
    ("model.architecture=transformer", "known architectures: cgc"),
    ("model.args={foo: 1}", "valid: tower_units"),
    ("model.encoder_args={bar: 2}", "valid: filters, units"),
    ("train.optimizer=lamb", "known: adam"),
    ("data.tasks=[left,bogus]", "its tasks are: left, right, same_digit"),
])
def test_bad_names_fail_before_any_work_naming_the_valid_ones(capsys, tmp_path, override, message):
    assert train.main(["--config", "configs/tiny.yaml", "--set", override,
                       "--output", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_dotted_override_sets_one_entry_and_a_mapping_replaces():
    cfg = load_config("configs/csv_example.yaml", ["data.options.train=other.csv"])
    assert cfg["data"]["options"]["train"] == "other.csv"
    assert cfg["data"]["options"]["labels"]["plan"] == "multiclass"  # kept
    cfg = load_config("configs/tiny.yaml", ["model.encoder_args={units: [8]}"])
    assert cfg["model"]["encoder_args"] == {"units": [8]}  # filters gone with the old mapping
    assert load_config("configs/csv_example.yaml", ["data.options=null"])["data"]["options"] == {}


@pytest.mark.parametrize("path", sorted(p for p in os.listdir("configs") if p.endswith(".yaml")))
def test_every_config_loads_and_names_its_command(path):
    text = open(os.path.join("configs", path)).read()
    assert text.startswith("#") and "python train.py" in text.split("\n\n")[0]
    load_config(os.path.join("configs", path))


def test_bad_method_is_a_config_error(capsys, tmp_path):
    code = train.main(["--config", "configs/tiny.yaml", "--output", str(tmp_path)]
                      + sets(["train.weighting=nope", f"data.data_dir={tmp_path / 'tfds'}"]))
    assert code == 2 and "known methods" in capsys.readouterr().err


@pytest.mark.slow
def test_train_with_baselines_then_evaluate_prints_delta_m_and_gates(tmp_path, capsys):
    run = str(tmp_path / "run")
    extra = ["train.weighting=cagrad", f"data.data_dir={tmp_path / 'tfds'}"]
    assert train.main(["--output", run, "--baselines"] + sets(extra)) == 0
    out = capsys.readouterr().out
    assert "Δm =" in out
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    assert set(metrics) == {"y1", "y2"} and set(metrics["y1"]) == {"loss", "rmse", "mae"}
    for task in ("y1", "y2"):
        base = os.path.join(run, "baselines", task)
        assert {"best.keras", "metrics.json", "config.yaml", "checkpoints"} <= set(os.listdir(base))
        assert load_config(os.path.join(base, "config.yaml"))["model"]["architecture"] == "single_task"
    history = json.load(open(os.path.join(run, "history.json")))
    assert len(history) == 2 and set(history[0]["weights"]) == {"y1", "y2"}

    # A resumed run with more epochs continues from the last checkpoint.
    assert train.main(["--output", run, "--resume"] + sets(extra + ["train.epochs=3"])) == 0
    assert "Epoch 3/3" in capsys.readouterr().out
    assert [h["epoch"] for h in json.load(open(os.path.join(run, "history.json")))] == [1, 2, 3]

    assert evaluate.main(["--run", run]) == 0
    out = capsys.readouterr().out
    assert "rmse" in out and "Δm" in out and "Mean gate weight per expert" in out
    report = json.load(open(os.path.join(run, "delta_m_test.json")))
    assert set(report["tasks"]) == {"y1", "y2"}
    assert report["tasks"]["y1"]["metric"] == "rmse" and not report["tasks"]["y1"]["higher_is_better"]
    mean = sum(r["relative_improvement"] for r in report["tasks"].values()) / 2
    assert report["delta_m"] == pytest.approx(mean)
    gates = json.load(open(os.path.join(run, "gates_test.json")))
    assert set(gates) == {"y1", "y2"} and sum(gates["y1"].values()) == pytest.approx(1.0, abs=1e-4)
