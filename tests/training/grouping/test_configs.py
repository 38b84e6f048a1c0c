"""The configs of a group's network and of the affinity run: the group's tasks only, and
nothing of the other tasks left (weights, loss options, a monitored metric)."""

from training.config import load_config
from training.grouping.configs import affinity_config, group_config

BASE = ["train.task_weights={left: 2.0, right: 0.5}", "train.monitor=val_left_accuracy",
        "train.loss_options={left: {class_weights: [1, 1, 1, 1, 1, 1, 1, 1, 1, 2]}}",
        "data.auxiliary_tasks=[same_digit]", "train.epochs=5", "train.seed=3"]


def test_a_group_keeps_what_concerns_its_tasks_only():
    base = load_config("configs/tiny.yaml", BASE)
    mine = group_config(base, ["left", "right"])
    assert mine.data.tasks == ["left", "right"] and mine.data.auxiliary_tasks == []
    assert mine.train.task_weights == {"left": 2.0, "right": 0.5}
    assert mine.train.monitor == "val_left_accuracy" and "left" in mine.train.loss_options
    other = group_config(base, ["right", "same_digit"])
    assert other.train.task_weights == {"right": 0.5} and other.train.loss_options == {}
    assert other.train.monitor == "val_loss"  # val_left_accuracy names a task not trained
    # The rest is the base's: architecture, epochs, seed.
    assert (other.model, other.train.epochs, other.train.seed) == (base.model, 5, 3)


def test_the_affinity_run_records_affinity_and_nothing_else():
    base = load_config("configs/tiny.yaml", BASE)
    run = affinity_config(base, ["left", "right", "same_digit"], epochs=2, per_epoch=3)
    t = run.train
    assert (t.epochs, t.affinity_per_epoch, t.diagnostics_per_epoch, t.gate_diagnostics) == (
        2, 3, 0, False)
    assert run.data.tasks == ["left", "right", "same_digit"] and run.train.seed == 3
