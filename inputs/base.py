"""`InputKind`: the members every input kind must have, declared in one place.

An input is one raw feature as it arrives at serving time (an image of uint8 pixels, a
number, a string category, a sentence or its tokens). Its kind (`image`, `numeric`,
`categorical`, `text`) is one class, a subclass of `InputKind`; `inputs.InputSpec(name,
kind, ...)` returns an instance of the kind's class. Everything that depends on the kind
is a member, so no code outside this layer asks which kind an input is:

- model: `preprocess` (raw values -> features, inside the Keras graph, so the exported
  model takes raw values; `tables` holds the embedding tables inputs share, e.g. an
  `item_id` column and a `clicked_items` list), `is_column` (a table column, joined with
  the others into one feature vector, or an input the model takes alone);
- serving: `example_feature` and `from_example` (how it travels in a `tf.Example` and
  is parsed back), `served_outputs` (what the export serves besides the tasks' answers:
  a text input's `tokens` and `sequence_length`), `sample` (plausible raw values for
  warmup requests and tests);
- data: `stored_feature` and `stored_values` (how a table column is stored by a dataset
  builder such as the CSV one, from the column's cells).

Adding a kind (a hashed id, a list of ids, a text column) is one class with these members,
its own fields if it needs any, and one line in `inputs/registry.py`. The modules import
without TensorFlow (`utils.lazy`), so dataset declarations stay quick.

Example:
>>> from inputs.base import InputKind
>>> sorted(InputKind.__abstractmethods__)
['example_feature', 'from_example', 'is_column', 'preprocess', 'sample', 'stored_values']
"""

import abc
import dataclasses
from typing import Optional, Tuple


@dataclasses.dataclass(frozen=True)
class InputKind(abc.ABC):
    """One raw model input; subclassed once per kind.

    Args:
        name: str. Feature name: the model input, the serving input, the TFDS feature.
        kind: str. The registered kind (`inputs.list_kinds()`): `image` (pixels 0-255),
            `numeric` (a float), `categorical` (a string) or `text` (a sentence, split on
            whitespace inside the model, or its tokens).
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
            None); its padding is masked for the encoder (`inputs/text.py`).
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
        # None: a dimension of any size (the tokens of a sentence).
        object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in self.shape))
        object.__setattr__(self, "vocabulary", tuple(str(v) for v in self.vocabulary))
        object.__setattr__(self, "resize", tuple(int(d) for d in (self.resize or ())))
        object.__setattr__(self, "na_values", tuple(str(v) for v in self.na_values))
        object.__setattr__(self, "strip_whitespace", bool(self.strip_whitespace))
        if self.resize and len(self.resize) != 2:
            raise ValueError(f"Input {self.name!r}: resize must be (height, width); got {self.resize}")

    def to_config(self) -> dict:
        """The input as configs and saved models store it (`inputs.InputSpec.from_config`)."""
        config = dataclasses.asdict(self)
        for key, value in config.items():
            if isinstance(value, tuple):
                config[key] = list(value)
        return config

    def served_outputs(self, x):
        """{output name: tensor} the export serves besides the tasks' answers, from this
        input's raw values `x`; none for most kinds."""
        return {}

    def describe(self):
        """How the model treats this input, in words (the schema report's `treatment`)."""
        return ""

    @property
    def stored_feature(self):
        """(dtype, per-example shape) of this input as a dataset builder stores it."""
        return self.dtype, tuple(self.shape)

    # --- model -------------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def is_column(self) -> bool:
        """True for a table column (its features join the other columns' in one vector),
        False for an input a model takes alone (an image, a text)."""

    @abc.abstractmethod
    def preprocess(self, x, tables=None):
        """Raw values (a Keras tensor) -> features, with new layers named after the input;
        `tables` ({name: Embedding}) is shared by the inputs of one model (see
        `embedding_table`)."""

    def embedding_table(self, tables, size, dim, **kwargs):
        """An Embedding of `size` rows and `dim` columns: this input's own (`<name>_embed`),
        or, with a `shared_embedding` name, the one every input of that name uses
        (`shared_<name>_embed`, made by the first; the others must ask the same size)."""
        import keras
        shared = getattr(self, "shared_embedding", None)
        if not shared:
            return keras.layers.Embedding(size, dim, name=f"{self.name}_embed", **kwargs)
        if tables is None:
            raise ValueError(f"Input {self.name!r}: shared_embedding {shared!r} needs the "
                             "model's table of shared embeddings")
        if shared not in tables:
            tables[shared] = keras.layers.Embedding(size, dim, name=f"shared_{shared}_embed",
                                                    **kwargs)
        table = tables[shared]
        if (table.input_dim, table.output_dim) != (size, dim):
            raise ValueError(f"Input {self.name!r}: shared_embedding {shared!r} is "
                             f"{table.input_dim} x {table.output_dim}, this input needs {size} "
                             f"x {dim}; inputs sharing a table need one vocabulary (or bucket "
                             "count) and one embedding_dim")
        return table

    # --- serving -----------------------------------------------------------------------

    @abc.abstractmethod
    def example_feature(self):
        """The `tf.io` feature this input is parsed with from a serialized `tf.Example`."""

    @abc.abstractmethod
    def from_example(self, value):
        """A parsed `tf.Example` feature -> the raw values `serving_default` takes."""

    @abc.abstractmethod
    def sample(self, n, rng):
        """`n` plausible raw values (numpy), drawn from `rng`."""

    # --- data --------------------------------------------------------------------------

    @abc.abstractmethod
    def stored_values(self, cells, column, where):
        """One table column (a pyarrow array) -> the stored values of its rows (numpy), read
        with `cells` (`data.csv_cells.Cells`: `numbers`, `text`); `where(i)` names row i's
        cell in an error (a ValueError)."""
