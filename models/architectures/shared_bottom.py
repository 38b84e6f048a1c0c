"""`shared_bottom`: hard parameter sharing (Caruana, 1997).

One shared encoder feeds every task; each task has its own small tower (a few
dense layers) before its head. Every other architecture is measured against it.

Paper: R. Caruana, "Multitask Learning", Machine Learning 28, 1997.

Args (`model.args`):
    tower_units: list of int. The dense layers of each task tower. Default (64,).

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config()],
...     inputs=[InputSpec("x", "numeric").to_config()],
...     architecture="shared_bottom", encoder="mlp", encoder_args={"units": [8]})
>>> sorted(m.output_names)
['a']
"""

from models.architectures.arguments import TOWER_UNITS
from models.architectures.blocks import towers_on
from utils.arguments import arguments


@arguments(tower_units=TOWER_UNITS)
def shared_bottom(features, tasks, make_encoder, tower_units=(64,)):
    """Hard sharing. Args: tower_units: list of int, the dense layers of each task tower."""
    shared = make_encoder("shared_encoder")(features)
    return towers_on(shared, tasks, tower_units), {}
