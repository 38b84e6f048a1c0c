"""`shared_bottom`: hard parameter sharing (Caruana, 1997).

One shared encoder feeds every task; each task has its own small tower (a few
dense layers) before its head. Every other architecture is measured against it.

Paper: R. Caruana, "Multitask Learning", Machine Learning 28, 1997.

Args (`model.args`):
    tower_units: list of int. The dense layers of each task tower. Default (64,).

Example:
>>> import models
>>> from data.tasks import Task
>>> from data.inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config()],
...     inputs=[InputSpec("x", "numeric").to_config()],
...     architecture="shared_bottom", encoder="mlp", encoder_args={"units": [8]})
>>> sorted(m.output_names)
['a']
"""

import keras

from models.registry import register_architecture


def dense_stack(x, units, name):
    """ReLU dense layers `<name>_0`, `<name>_1`, ... of widths `units` on `x`."""
    for i, u in enumerate(units):
        x = keras.layers.Dense(int(u), activation="relu", name=f"{name}_{i}")(x)
    return x


def towers_on(shared, tasks, tower_units, prefix="tower"):
    """Per-task dense towers on top of one shared tensor."""
    return {task.name: dense_stack(shared, tower_units, f"{prefix}_{task.name}") for task in tasks}


@register_architecture("shared_bottom")
def shared_bottom(features, tasks, make_encoder, tower_units=(64,)):
    """Hard sharing. Args: tower_units: list of int, the dense layers of each task tower."""
    shared = make_encoder("shared_encoder")(features)
    return towers_on(shared, tasks, tower_units), {}
