"""`shared_bottom`: hard parameter sharing (Caruana, 1997).

One shared encoder feeds every task; each task has its own small tower (a few
dense layers) before its head.

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


def towers_on(shared, tasks, tower_units, prefix="tower"):
    """Per-task dense towers on top of one shared tensor."""
    towers = {}
    for task in tasks:
        x = shared
        for i, units in enumerate(tower_units):
            x = keras.layers.Dense(units, activation="relu", name=f"{prefix}_{task.name}_{i}")(x)
        towers[task.name] = x
    return towers


@register_architecture("shared_bottom")
def shared_bottom(features, tasks, make_encoder, tower_units=(64,)):
    """Hard sharing. Args: tower_units: list of int, the dense layers of each task tower."""
    shared = make_encoder("shared_encoder")(features)
    return towers_on(shared, tasks, tower_units), {}
