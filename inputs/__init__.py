"""Inputs: the raw features a model takes, one class per input kind.

A layer beside `tasks/`, below `data/` (datasets declare their inputs) and `models/` (the
in-graph preprocessing, the exported `tf.Example` parsing, warmup samples and extra served
outputs come from the inputs). Importing it does not import TensorFlow.

- `base.py`: `InputKind`, the members every kind must have;
- `image.py`, `numeric.py`, `categorical.py`, `hashed.py`, `id_list.py`, `text.py`: one
  kind each; `ids.py`: the id -> embedding row mapping the id kinds share; `layers.py`,
  `text_layers.py`: their Keras layers (imported when a model is built);
- `registry.py`: the kinds by name; `spec.py`: `InputSpec(name, kind, ...)` and the config
  round trip.

Example:
>>> from inputs import InputSpec, list_kinds
>>> type(InputSpec("age", "numeric")).__name__, list_kinds()
('NumericInput', ['categorical', 'hashed', 'id_list', 'image', 'numeric', 'text'])
"""

from inputs.base import InputKind  # noqa: F401
from inputs.categorical import CategoricalInput  # noqa: F401
from inputs.hashed import HashedInput  # noqa: F401
from inputs.id_list import IdListInput  # noqa: F401
from inputs.image import ImageInput  # noqa: F401
from inputs.numeric import NumericInput  # noqa: F401
from inputs.registry import INPUT_KINDS, list_kinds  # noqa: F401
from inputs.spec import InputSpec, inputs_from_config, inputs_to_config  # noqa: F401
from inputs.text import TextInput  # noqa: F401
