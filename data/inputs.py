"""Input declarations: the raw features a model takes, and how to preprocess them.

An `InputSpec` describes one raw input as it arrives at serving time (an image
of uint8 pixels, a number, a string category, a sentence or its tokens). The model
builds its own preprocessing from these specs (rescaling, normalisation with training
statistics, vocabulary lookup), so the exported SavedModel takes raw values.

Example:
>>> from data.inputs import InputSpec
>>> InputSpec("image", "image", shape=(28, 28, 1), dtype="uint8").to_config()["kind"]
'image'
"""

import dataclasses
from typing import Optional, Tuple

INPUT_KINDS = ("image", "numeric", "categorical", "text")


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One raw model input.

    Args:
        name: str. Feature name: the model input, the serving input, the TFDS feature.
        kind: str. `image` (pixels 0-255), `numeric` (a float), `categorical` (a string)
            or `text` (a sentence, split on whitespace inside the model, or its tokens).
        shape: tuple of int. Per-example shape; `()` for a scalar column or a sentence;
            `(None,)` for a `text` input given as tokens (padded with "").
        dtype: str. The raw dtype (`uint8` for images, `float32`, `string`).
        vocabulary: tuple of str. Known categories (`categorical`) or tokens (`text`, from
            the training split); anything else maps to an out-of-vocabulary bucket.
        mean: float. Training mean (`numeric`), used for normalisation.
        variance: float. Training variance (`numeric`).
        fill_value: float or str. Value the model imputes where a cell is empty
            (a NaN `numeric`, an empty-string `categorical`); usually the
            training mean or the most frequent training category.
        max_value: float. Largest raw pixel value of an `image` (255 by default;
            1 for binary images such as dSprites); the model divides by it.
        resize: tuple of int. `(height, width)` an `image` is resized to inside
            the model (the served model still takes the raw size); `()` keeps it.
        strip_whitespace: bool. A `categorical` value loses its leading and trailing
            ASCII whitespace inside the model (as the training data did).
        na_values: tuple of str. `categorical` values that mean "missing" besides the
            empty string (after stripping), imputed like it: e.g. `("?", "NA")`.
        lowercase: bool. A `text` input's tokens are lower-cased inside the model before
            the vocabulary lookup (the vocabulary must then be lower-case too).
        embedding_dim: int or None. Width of a `text` input's token embedding (64 when
            None); its padding is masked for the encoder (`models/text_preprocessing.py`).
        char_features: int. Width of a `text` input's per-token character CNN feature,
            concatenated to the word embedding (0: none), so unseen words keep their spelling.
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
    strip_whitespace: bool = False
    na_values: Tuple[str, ...] = ()
    lowercase: bool = False
    embedding_dim: Optional[int] = None
    char_features: int = 0

    def __post_init__(self):
        if self.kind not in INPUT_KINDS:
            raise ValueError(f"Input {self.name!r}: unknown kind {self.kind!r}; valid: {INPUT_KINDS}")
        # None: a dimension of any size (the tokens of a sentence).
        object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in self.shape))
        object.__setattr__(self, "vocabulary", tuple(str(v) for v in self.vocabulary))
        object.__setattr__(self, "resize", tuple(int(d) for d in (self.resize or ())))
        object.__setattr__(self, "na_values", tuple(str(v) for v in self.na_values))
        object.__setattr__(self, "strip_whitespace", bool(self.strip_whitespace))
        if self.resize and len(self.resize) != 2:
            raise ValueError(f"Input {self.name!r}: resize must be (height, width); got {self.resize}")

    def to_config(self) -> dict:
        config = dataclasses.asdict(self)
        config["shape"] = list(self.shape)
        config["vocabulary"] = list(self.vocabulary)
        config["resize"] = list(self.resize)
        config["na_values"] = list(self.na_values)
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
