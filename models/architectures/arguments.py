"""The `model.args` several architectures declare alike, declared once.

An architecture names these in its `@arguments(...)` instead of repeating the `Arg`: the
meaning text on the Arguments reference page (`make docs`, `python train.py --list NAME`)
then reads the same wherever the argument means the same. The config loader reads them
from this file without importing it (`utils/static_arguments.py`): keep each a literal
`Arg(...)` (or a dict of rules). An argument whose meaning differs in an architecture
(PLE's experts above level 1, ESMM's networks) keeps its own `Arg` there.

- `TOWER_UNITS`: the dense layers of each task tower (`blocks.dense_stack`).
- `EXPERT_UNITS`, `SHARED_ENCODER`, `EXPERT_RULES`: the experts of `experts.shared_experts`
  and CGC's: dense experts on one shared encoder, or an encoder per expert, and the rule
  that shared-encoder experts have at least one dense layer.

Example:
>>> from models.architectures.arguments import EXPERT_RULES, TOWER_UNITS
>>> from utils.arguments import arguments, check
>>> @arguments(tower_units=TOWER_UNITS)
... def my_architecture(features, tasks, make_encoder, tower_units=(64,)): ...
>>> check(my_architecture.declared_arguments, {"tower_units": [0]}, "model.args")
Traceback (most recent call last):
...
utils.arguments.ArgumentError: model.args.tower_units[0]: 0 is out of range; valid: a list of integers >= 1
>>> EXPERT_RULES
{'expert_units': 'len(expert_units) >= 1 or not shared_encoder'}
"""

from utils.arguments import Arg

TOWER_UNITS = Arg(list, "dense layers of each task tower", item=int, range="[1, inf)")

EXPERT_UNITS = Arg(list,
                   "dense layers of each expert (after its own encoder, or on the shared "
                   "encoder's output)",
                   item=int, range="[1, inf)")

SHARED_ENCODER = Arg(bool,
                     "one shared encoder under dense experts (true), or an encoder per expert "
                     "on the raw features (false, the paper)")

EXPERT_RULES = {"expert_units": "len(expert_units) >= 1 or not shared_encoder"}
