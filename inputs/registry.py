"""The input kinds by name: an explicit table, `kind` in configs and saved models.

Adding a kind is one module with its class (an `inputs.base.InputKind`) and one line
here.

Example:
>>> from inputs.registry import INPUT_KINDS, list_kinds
>>> list_kinds()
['categorical', 'hashed', 'id_list', 'image', 'numeric', 'text']
>>> INPUT_KINDS.get("audio")
Traceback (most recent call last):
...
ValueError: kind: unknown input kind 'audio'; known input kinds: categorical, hashed, id_list, image, numeric, text
"""

from inputs.categorical import CategoricalInput
from inputs.hashed import HashedInput
from inputs.id_list import IdListInput
from inputs.image import ImageInput
from inputs.numeric import NumericInput
from inputs.text import TextInput
from utils.registry import Registry

INPUT_KINDS = Registry("input kind", key="kind", entries={
    "image": ImageInput,
    "numeric": NumericInput,
    "categorical": CategoricalInput,
    "hashed": HashedInput,
    "id_list": IdListInput,
    "text": TextInput,
})


def list_kinds():
    """Every registered kind's name, sorted."""
    return INPUT_KINDS.names()
