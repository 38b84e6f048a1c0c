"""`id_list`: a list of ids per example (recently clicked items, tags), pooled into one vector.

The ids come as a list (a JSON array, a Parquet list: shape `(None,)`, padded with "" to
the longest of a batch) or as one text cell holding them between `separator`s (a CSV cell
`i1|i7|i9`: shape `()`, split inside the model). Each id is stripped when the training data
was, hashed into `num_buckets` rows or looked up in the vocabulary (`num_oov_buckets` rows
for the others; `inputs/ids.py`), embedded, and the embeddings of the real ids are pooled by
`mean` or `sum` (padding and empty ids are masked out; an empty list gives zeros): a
multi-hot input weighted by learned embeddings. With `shared_embedding` the table is the
one another input holding the same ids uses (`item_id` and `clicked_items`). Everything is
in the graph: a client sends the raw ids. A `tf.Example` carries a list as one bytes_list
entry per id, a cell as one entry.

Example:
>>> import numpy as np
>>> from inputs import InputSpec
>>> clicks = InputSpec("clicks", "id_list", dtype="string", num_buckets=64, pooling="sum")
>>> clicks.shape, clicks.is_column, clicks.sample(2, np.random.default_rng(0)).tolist()
((None,), True, [['id63', 'id51', 'id26'], ['id4', '', '']])
"""

import dataclasses
from typing import Optional

import numpy as np

from inputs.base import InputKind
from inputs.ids import check_ids, default_embedding_dim, describe_ids, id_rows
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")
keras = LazyModule("keras")

POOLINGS = ("mean", "sum")


@dataclasses.dataclass(frozen=True)
class IdListInput(InputKind):
    """A list of string ids, embedded and pooled.

    Args (besides `inputs.base.InputKind`'s):
        num_buckets: int. Rows the ids are hashed into; 0: looked up in `vocabulary`.
        num_oov_buckets: int. Rows shared by ids outside the vocabulary (no hashing).
        pooling: str. `mean` or `sum` of the ids' embeddings.
        separator: str or None. The ids come as one cell holding them between separators
            (shape `()`); None: as a list (shape `(None,)`).
        shared_embedding: str or None. The name of an embedding table shared with other
            inputs holding the same ids.
    """

    num_buckets: int = 0
    num_oov_buckets: int = 1
    pooling: str = "mean"
    separator: Optional[str] = None
    shared_embedding: Optional[str] = None

    is_column = True

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "shape", () if self.separator else (None,))
        if self.pooling not in POOLINGS:
            raise ValueError(f"Input {self.name!r}: pooling must be one of "
                             f"{', '.join(POOLINGS)}; got {self.pooling!r}")
        if not self.num_buckets and not self.vocabulary:
            raise ValueError(f"Input {self.name!r}: an id list needs num_buckets >= 1 (hashing) "
                             "or a vocabulary")
        check_ids(self, hashed=bool(self.num_buckets))

    def preprocess(self, x, tables=None):
        from inputs.layers import MaskedPool, SplitCells, StripWhitespace
        if self.separator:
            x = SplitCells(self.separator, name=f"{self.name}_split")(x)
        if self.strip_whitespace:
            x = StripWhitespace(name=f"{self.name}_strip")(x)
        rows, size = id_rows(self, x)
        dim = int(self.embedding_dim or default_embedding_dim(size))
        embedded = self.embedding_table(tables, size, dim)(rows)
        return MaskedPool(self.pooling, name=f"{self.name}_pool")([embedded, x])

    def describe(self):
        cell = f" in a cell split at {self.separator!r}" if self.separator else ""
        return f"list{cell}, {self.pooling} of its ids' embeddings, {describe_ids(self)}"

    def example_feature(self):
        if self.separator:
            return tf.io.FixedLenFeature([], tf.string, default_value="")
        return tf.io.RaggedFeature(tf.string)  # one bytes_list entry per id

    def from_example(self, value):
        if isinstance(value, tf.RaggedTensor):
            return value.to_tensor("")  # padded as `serving_default` takes lists
        return tf.cast(value, tf.string)

    def sample(self, n, rng):
        """`n` lists of 1-3 ids (from the vocabulary, else `id<k>`), padded with "" (or
        joined by the separator)."""
        words = list(self.vocabulary) or [f"id{i}" for i in range(100)]
        lists = [[words[i] for i in rng.integers(0, len(words), int(rng.integers(1, 4)))]
                 for _ in range(n)]
        if self.separator:
            return np.array([self.separator.join(ids) for ids in lists], dtype=object)
        longest = max(len(ids) for ids in lists)
        return np.array([ids + [""] * (longest - len(ids)) for ids in lists], dtype=object)

    @property
    def stored_feature(self):
        return "string", tuple(self.shape)

    def stored_values(self, cells, column, where):
        """A cell per row (with a separator), else [rows, longest] ids padded with ""."""
        if self.separator:
            values, missing = cells.text(column)
            text = values.to_numpy(zero_copy_only=False).astype(object)
            text[missing] = ""
            return text
        return cells.id_lists(column, where)
