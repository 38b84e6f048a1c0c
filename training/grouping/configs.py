"""The configs of a grouping's runs: one network for some tasks, and the affinity run.

A group's network is the base experiment trained on the group's tasks only
(`data.tasks`), everything else as in the base: its architecture, encoder, weighting,
epochs, seed. Whatever the base says about other tasks is dropped: task weights and
loss options of tasks outside the group, auxiliary tasks, and a monitored metric of
another task (then `val_loss`), as `training.baselines.baseline_config` does for one task.

The affinity run is the group of every task grouped, trained `affinity_epochs` with
`affinity_per_epoch` sampled lookahead steps per epoch and no other diagnostic (its
cost is the grouping's cost: `bench/grouping_cost.py`).

Example:
>>> from training.config import load_config
>>> from training.grouping.configs import affinity_config, group_config
>>> base = load_config("configs/tiny.yaml", ["train.task_weights={left: 2.0}"])
>>> c = group_config(base, ["right", "same_digit"])
>>> c.data.tasks, c.train.task_weights
(['right', 'same_digit'], {})
>>> a = affinity_config(base, ["left", "right", "same_digit"], epochs=2, per_epoch=4)
>>> a.train.epochs, a.train.affinity_per_epoch, a.train.diagnostics_per_epoch
(2, 4, 0)
"""


def _monitor(monitor, tasks):
    """The monitored metric, or `val_loss` when it names a task outside `tasks`."""
    if monitor in ("val_loss", "loss"):
        return monitor
    mine = tuple(f"{split}_{t}_" for split in ("val", "train") for t in tasks)
    return monitor if monitor.startswith(mine) else "val_loss"


def group_config(config, tasks):
    """The `Config` of one group's network: `config` trained on `tasks` only."""
    tasks = list(tasks)
    train = config.train
    return config.replace(
        data={"tasks": tasks, "auxiliary_tasks": []},
        train={"task_weights": {k: v for k, v in train.task_weights.items() if k in tasks},
               "loss_options": {k: v for k, v in train.loss_options.items() if k in tasks},
               "monitor": _monitor(train.monitor, tasks)})


def affinity_config(config, tasks, epochs, per_epoch):
    """The affinity run's `Config`: every task of `tasks` in one network, `epochs` epochs,
    `per_epoch` affinity samples per epoch, the other diagnostics off."""
    return group_config(config, tasks).replace(
        train={"epochs": int(epochs), "affinity_per_epoch": int(per_epoch),
               "diagnostics_per_epoch": 0, "gate_diagnostics": False})
