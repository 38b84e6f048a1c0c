"""Input declarations: the raw features a model takes, and how to preprocess them.

An `InputSpec` describes one raw input as it arrives at serving time (an image
of uint8 pixels, a number, a string category). The model builds its own
preprocessing from these specs (rescaling, normalisation with training
statistics, vocabulary lookup), so the exported SavedModel takes raw values.

Example:
>>> from data.inputs import InputSpec
>>> InputSpec("image", "image", shape=(28, 28, 1), dtype="uint8").to_config()["kind"]
'image'
"""

import dataclasses
from typing import Optional, Tuple

INPUT_KINDS = ("image", "numeric", "categorical")


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One raw model input.

    Args:
        name: str. Feature name: the model input, the serving input, the TFDS feature.
        kind: str. `image` (pixels 0-255), `numeric` (a float) or `categorical` (a string).
        shape: tuple of int. Per-example shape; `()` for a scalar column.
        dtype: str. The raw dtype (`uint8` for images, `float32`, `string`).
        vocabulary: tuple of str. Known categories (`categorical`); anything
            else maps to an out-of-vocabulary bucket.
        mean: float. Training mean (`numeric`), used for normalisation.
        variance: float. Training variance (`numeric`).
        fill_value: float or str. Value the model imputes where a cell is empty
            (a NaN `numeric`, an empty-string `categorical`); usually the
            training mean or the most frequent training category.
        max_value: float. Largest raw pixel value of an `image` (255 by default;
            1 for binary images such as dSprites); the model divides by it.
        resize: tuple of int. `(height, width)` an `image` is resized to inside
            the model (the served model still takes the raw size); `()` keeps it.
    """

    name: str
    kind: str
    shape: Tuple[int, ...] = ()
    dtype: str = "float32"
    vocabulary: Tuple[str, ...] = ()
    mean: Optional[float] = None
    variance: Optional[float] = None
    fill_value: Optional[object] = None
    max_value: Optional[float] = None
    resize: Tuple[int, ...] = ()

    def __post_init__(self):
        if self.kind not in INPUT_KINDS:
            raise ValueError(f"Input {self.name!r}: unknown kind {self.kind!r}; valid: {INPUT_KINDS}")
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        object.__setattr__(self, "vocabulary", tuple(str(v) for v in self.vocabulary))
        object.__setattr__(self, "resize", tuple(int(d) for d in (self.resize or ())))
        if self.resize and len(self.resize) != 2:
            raise ValueError(f"Input {self.name!r}: resize must be (height, width); got {self.resize}")

    def to_config(self) -> dict:
        config = dataclasses.asdict(self)
        config["shape"] = list(self.shape)
        config["vocabulary"] = list(self.vocabulary)
        config["resize"] = list(self.resize)
        return config

    @classmethod
    def from_config(cls, config) -> "InputSpec":
        if isinstance(config, InputSpec):
            return config
        config = dict(config)
        # Configs saved before a field existed simply lack it.
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"InputSpec: unknown field(s) {unknown}; valid: {sorted(known)}")
        return cls(**config)


def inputs_to_config(inputs):
    return [i.to_config() for i in inputs]


def inputs_from_config(configs):
    return tuple(InputSpec.from_config(c) for c in configs)
