"""A `train:` section resolved against the tasks it trains: every name looked up once,
every check that needs the tasks done once.

`load_config` has already checked what needs no tasks (types, ranges, names and
arguments against their declarations). `TrainSetup.resolve` adds what needs the
tasks or the method's class: `train.gradient_on` against the method, task weights,
the monitored metric (`Monitor`) and each task's loss options. The experiment
resolves it before any data or model work; the trainer builds from it (the method,
the optimizer, the diagnostics) without checking again.

Example:
>>> from tasks import Task
>>> from training.config import TrainConfig
>>> from training.setup import TrainSetup
>>> tasks = [Task("a", "binary"), Task("b", "regression")]
>>> setup = TrainSetup.resolve(TrainConfig(weighting="pcgrad", monitor="val_a_auc"), tasks)
>>> setup.method.name, setup.monitor.higher_is_better, setup.gradient_on
('pcgrad', True, 'representation')
>>> TrainSetup.resolve(TrainConfig(monitor="val_c_auc"), tasks)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: train.monitor: unknown metric 'val_c_auc'; valid: val_loss, loss, val_a_loss, ...
"""

import dataclasses

from training.config import TrainConfig
from training.loss_options import resolve as resolve_loss_options
from training.monitor import Monitor
from training.optimizers import make_optimizer
from training.weighting import WEIGHTINGS, check_task_weights

GRADIENT_ON = ("representation", "parameters")


@dataclasses.dataclass(frozen=True)
class TrainSetup:
    """What a trainer needs from `train:`, resolved for `tasks`.

    Attributes:
        config: TrainConfig. The section (epochs, seed, diagnostics...).
        tasks: tuple of Task. The tasks trained.
        method: type. The weighting method's class (`train.weighting`).
        gradient_on: str. Where the method takes per-task gradients.
        monitor: Monitor. The metric that picks the best checkpoint.
        loss_options: dict. {task: options of its kind's loss}, checked by the kind
            (`training.loss_options.resolve`).
    """

    config: TrainConfig
    tasks: tuple
    method: type
    gradient_on: str
    monitor: Monitor
    loss_options: dict

    @classmethod
    def resolve(cls, config, tasks):
        """Looks up and checks everything of `config` that needs `tasks`; ValueError naming
        the key when something does not fit."""
        tasks = tuple(tasks)
        method = WEIGHTINGS.get(config.weighting)
        check_task_weights(method, config.task_weights, tasks)
        return cls(config, tasks, method, _gradient_on(config, method),
                   Monitor.resolve(config.monitor, tasks, config.monitor_mode),
                   resolve_loss_options(config.loss_options, tasks))

    def make_weighting(self):
        """A new instance of the method (under the strategy scope: it may own variables)."""
        return self.method(self.tasks, task_weights=self.config.task_weights,
                           **self.config.weighting_args)

    def make_optimizer(self):
        """A new optimizer (under the strategy scope)."""
        c = self.config
        return make_optimizer(c.optimizer, c.learning_rate, c.optimizer_args)

    def diagnostics(self):
        """Arguments of `training.diagnostics.Diagnostics`; None when every kind is off."""
        c = self.config
        if not (c.diagnostics_per_epoch or c.affinity_per_epoch or c.gate_diagnostics):
            return None
        return {"gradients_per_epoch": c.diagnostics_per_epoch,
                "affinity_per_epoch": c.affinity_per_epoch, "gates": c.gate_diagnostics}


def _gradient_on(config, method):
    if config.gradient_on is None:
        return getattr(method, "gradient_spaces", GRADIENT_ON)[0]
    if not method.uses_gradients:
        users = [n for n, c in WEIGHTINGS.items() if c.uses_gradients]
        raise ValueError(f"train.gradient_on: {config.weighting!r} does not use per-task "
                         f"gradients, so it ignores this key; methods that do: {', '.join(users)}")
    spaces = getattr(method, "gradient_spaces", GRADIENT_ON)
    if config.gradient_on not in spaces:
        raise ValueError(f"train.gradient_on: {config.weighting!r} works on "
                         f"{' or '.join(spaces)} only; valid: {', '.join(spaces)}")
    return config.gradient_on

