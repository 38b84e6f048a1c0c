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
    cfg = load_config("configs/tiny.yaml", ["train.gradient_on=parameters", "train.weighting=cagrad",
                                            "train.weighting_args={c: 0.5}", "data.tasks=left,right"])
    assert cfg.train.gradient_on == "parameters"
    assert cfg.train.weighting_args == {"c": 0.5}
    assert cfg.data.tasks == ["left", "right"]


@pytest.mark.parametrize("override, message", [
    ("model.architecture=transformer", "known architectures: aitm, cgc"),
    ("model.args={foo: 1}", "model.args.foo: unknown argument of architecture 'shared_bottom'; "
                            "valid: tower_units"),
    ("model.encoder_args={bar: 2}", "valid: filters, units"),
    ("train.optimizer=lamb", "known optimizers: adam"),
    ("data.tasks=[left,bogus]", "its tasks are: left, right, same_digit"),
])
def test_bad_names_fail_before_any_work_naming_the_valid_ones(capsys, tmp_path, override, message):
    assert train.main(["--config", "configs/tiny.yaml", "--set", override,
                       "--output", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("override, message", [
    ("train.epochs=two", "train.epochs: expected an integer, got 'two' (str)"),
    ("train.epochs=-3", "train.epochs: must be >= 1, got -3"),
    ("train.batch_size=0", "train.batch_size: must be >= 1, got 0"),
    ("train.learning_rate=[1]", "train.learning_rate: expected a number, got [1] (list)"),
    ("train.learning_rate=0", "train.learning_rate: must be > 0, got 0.0"),
    ("train.monitor_mode=up", "train.monitor_mode: unknown value 'up'; valid values: auto, min, max"),
    ("train.gradient_on=params", "valid values: representation, parameters"),
    ("model.args={tower_units: 16}", "model.args.tower_units: expected a list, got 16 (int); "
                                     "valid: a list of integers >= 1"),
    ("train.task_weights={left: 2}", "train.task_weights: 'equal' does not use task weights; "
                                     "methods that do: static"),
    ("train.gradient_on=parameters", "train.gradient_on: 'equal' does not use per-task gradients"),
    ("train.monitor=val_left_auc", "train.monitor: unknown metric 'val_left_auc'; valid: val_loss"),
    ("train.weighting_args={c: fast}", "train.weighting_args.c: unknown argument of method "
                                       "'equal'; valid: (none)"),
    ("data.auxiliary_tasks=[bogus]", "data.auxiliary_tasks: ['bogus'] are not among the tasks"),
    ("data.auxiliary_tasks=[left,right,same_digit]", "every task is auxiliary"),
    ("train.loss_options={left: {pos_weight: 2}}",
     "train.loss_options.left.pos_weight: unknown argument of a multiclass task; valid: "
     "class_weights, focal_gamma"),
    ("train.loss_options={left: {focal_gamma: -1}}",
     "train.loss_options.left.focal_gamma: -1.0 is out of range; valid: a number >= 0, or null"),
    ("train.loss_options={left: {class_weights: [1, 2]}}",
     "train.loss_options.left.class_weights: 2 values; valid: 10 (one per class)"),
])
def test_bad_values_are_config_errors_naming_the_key(capsys, tmp_path, override, message):
    assert train.main(["--config", "configs/tiny.yaml", "--set", override,
                       "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: ") and message in err, err
    assert not (tmp_path / "run").exists()


def test_wrongly_typed_architecture_and_method_arguments(capsys, tmp_path):
    code = train.main(["--output", str(tmp_path)] + sets(["model.args={num_experts: 2.9}"]))
    assert code == 2 and "model.args.num_experts: expected an integer, got 2.9" in capsys.readouterr().err
    code = train.main(["--output", str(tmp_path)] + sets(["train.weighting=cagrad",
                                                          "train.weighting_args={c: fast}"]))
    assert code == 2 and "train.weighting_args.c: expected a number" in capsys.readouterr().err


def test_broken_yaml_names_line_and_column(capsys, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("train:\n  epochs: 2\n  weighting: [pcgrad\n")
    assert train.main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"config error: {path}, line 4, column 1: invalid YAML"), err
    assert train.main(["--config", "configs/tiny.yaml", "--set", "train.epochs=[1"]) == 2
    assert "--set train.epochs=[1, line 1, column 3: invalid YAML" in capsys.readouterr().err


def test_resume_without_a_checkpoint_is_an_error_unless_auto(capsys, tmp_path):
    run = str(tmp_path / "run")
    assert train.main(["--config", "configs/tiny.yaml", "--output", run, "--resume"]) == 2
    assert "--resume: no checkpoint in" in capsys.readouterr().err
    assert not os.path.exists(run)


def test_a_dotted_override_sets_one_entry_and_a_mapping_replaces():
    cfg = load_config("configs/csv_example.yaml", ["data.options.train=other.csv"])
    assert cfg.data.options["train"] == "other.csv"
    assert cfg.data.options["labels"]["plan"] == "multiclass"  # kept
    cfg = load_config("configs/tiny.yaml", ["model.encoder_args={filters: [4]}"])
    assert cfg.model.encoder_args == {"filters": [4]}  # units gone with the old mapping
    assert load_config("configs/tiny.yaml", ["data.options=null"]).data.options == {}
    with pytest.raises(ConfigError, match="data.options.train: required by dataset 'csv'"):
        load_config("configs/csv_example.yaml", ["data.options=null"])


@pytest.mark.parametrize("path", sorted(p for p in os.listdir("configs") if p.endswith(".yaml")))
def test_every_config_loads_and_names_its_command(path):
    text = open(os.path.join("configs", path)).read()
    assert text.startswith("#") and "python train.py" in text.split("\n\n")[0]
    load_config(os.path.join("configs", path))  # names and arguments checked at load


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
    assert set(metrics) == {"y1", "y2"}
    assert set(metrics["y1"]) == {"loss", "rmse", "mae", "labelled", "label_counts",
                                  "primary_metric", "higher_is_better"}
    assert metrics["y1"]["primary_metric"] == "rmse" and not metrics["y1"]["higher_is_better"]
    assert metrics["y1"]["label_counts"] == {"train": {"labelled": 128, "examples": 128},
                                             "validation": {"labelled": 64, "examples": 64},
                                             "test": {"labelled": 64, "examples": 64}}
    assert metrics["y1"]["labelled"] == 64
    assert "labels (labelled / examples): y1 train 128/128" in out
    for task in ("y1", "y2"):
        base = os.path.join(run, "baselines", task)
        assert {"best.keras", "metrics.json", "config.yaml", "checkpoints"} <= set(os.listdir(base))
        assert load_config(os.path.join(base, "config.yaml")).model.architecture == "single_task"
    history = json.load(open(os.path.join(run, "history.json")))
    assert len(history) == 2 and set(history[0]["weights"]) == {"y1", "y2"}

    # A resumed run with more epochs continues from the last checkpoint.
    assert train.main(["--output", run, "--resume"] + sets(extra + ["train.epochs=3"])) == 0
    assert "Epoch 3/3" in capsys.readouterr().out
    assert [h["epoch"] for h in json.load(open(os.path.join(run, "history.json")))] == [1, 2, 3]
    # --resume=auto on a finished run has nothing left to do; a corrupted last checkpoint
    # is named, with the one before it.
    ckpt = os.path.join(run, "checkpoints")
    data_file = [f for f in os.listdir(ckpt) if f.startswith("ckpt-3.data")][0]
    with open(os.path.join(ckpt, data_file), "r+b") as f:
        f.truncate(16)
    assert train.main(["--output", run, "--resume=auto"] + sets(extra + ["train.epochs=4"])) == 2
    err = capsys.readouterr().err
    assert "checkpoint " + os.path.join(ckpt, "ckpt-3") + " is unreadable" in err, err
    assert "the previous one is " + os.path.join(ckpt, "ckpt-2") in err

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
