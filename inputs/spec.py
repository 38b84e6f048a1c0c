"""`InputSpec(name, kind, ...)`: the raw features a model takes, as datasets declare them.

`InputSpec(name, kind, ...)` returns an instance of the kind's class (`ImageInput`,
`NumericInput`, ... from `inputs.registry.INPUT_KINDS`; each an `inputs.base.InputKind`,
and `isinstance(spec, InputSpec)` holds for each). The model builds its own
preprocessing from these (rescaling, normalisation with training statistics, vocabulary
lookup), so the exported SavedModel takes raw values.

Example:
>>> from inputs import InputSpec
>>> image = InputSpec("image", "image", shape=(28, 28, 1), dtype="uint8")
>>> type(image).__name__, image.to_config()["kind"], isinstance(image, InputSpec)
('ImageInput', 'image', True)
>>> InputSpec.from_config(image.to_config()) == image
True
"""

import abc
import dataclasses

from inputs.base import InputKind
from inputs.registry import INPUT_KINDS


class InputSpec(abc.ABC):
    """Makes an input: `InputSpec(name, kind, shape=(), dtype="float32", ...)` returns the
    kind's object (see `inputs.base.InputKind` for the arguments); an unknown kind lists
    the known ones."""

    def __new__(cls, *args, **kwargs):
        return INPUT_KINDS.make("Input", *args, **kwargs)

    @staticmethod
    def from_config(config) -> InputKind:
        """The input of a `to_config()` dict (an input is returned as it is). Configs saved
        before a field existed simply lack it; a field no kind knows is an error."""
        if isinstance(config, InputKind):
            return config
        config = dict(config)
        try:
            kind_class = INPUT_KINDS.get(config.get("kind"))
        except ValueError as e:
            raise ValueError(f"InputSpec {config.get('name', '?')!r}: {e}") from None
        known = {f.name for f in dataclasses.fields(kind_class)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"InputSpec: unknown field(s) {unknown}; valid: {sorted(known)}")
        return kind_class(**config)


# Every kind's object is an InputSpec, though no kind derives from this factory.
InputSpec.register(InputKind)


def inputs_to_config(inputs):
    return [i.to_config() for i in inputs]


def inputs_from_config(configs):
    return tuple(InputSpec.from_config(c) for c in configs)
