"""`single_task`: the no-sharing baseline -- one encoder and tower per task.

Each task gets its own encoder (same encoder and `encoder_args` as the
multi-task model) and tower; no parameter is shared, so with the default equal
loss weighting, training all tasks in one `single_task` model is the same as
training one model per task (each loss only reaches its own parameters;
per-parameter optimizers such as Adam keep them independent).

For `train.py --baselines`, `models.baseline_config.single_task_config` turns a
multi-task model config into the config of a ONE-task `single_task` model with
the same encoder and tower widths, to be trained (and saved, exported) on its own.

Args (`model.args`):
    tower_units: list of int. Dense layers of each task's tower. Default (64,).

Example:
>>> import models
>>> from inputs import InputSpec
>>> from tasks import Task
>>> m = models.MultiTaskModel(tasks=[Task("a", "binary"), Task("b", "regression")],
...                           inputs=[InputSpec("x", "numeric")], architecture="single_task",
...                           encoder="mlp", encoder_args={"units": [8]})
>>> sorted(layer.name for layer in m.layers if layer.name.startswith("encoder_"))
['encoder_a', 'encoder_b']
"""

from models.architectures.arguments import TOWER_UNITS
from models.architectures.blocks import dense_stack
from utils.arguments import arguments


@arguments(tower_units=TOWER_UNITS)
def single_task(features, tasks, make_encoder, tower_units=(64,)):
    """No sharing: `encoder_<task>` and `tower_<task>` per task."""
    towers = {}
    for task in tasks:
        x = make_encoder(f"encoder_{task.name}")(features)
        towers[task.name] = dense_stack(x, tower_units, f"tower_{task.name}")
    return towers, {}
