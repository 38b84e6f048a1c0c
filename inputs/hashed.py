"""`hashed`: a string id of any number of values, hashed into `num_buckets` embedding rows.

For id columns too large for a vocabulary (a million users): no vocabulary is kept, so the
model's size is bounded by the buckets, not by the ids. The id is stripped when the
training data was, hashed in the graph (FarmHash64, `inputs/ids.py`: the same bucket in
every process and in the exported model; an id never seen in training still gets its
bucket, shared with the ids that collide with it), and embedded `embedding_dim` wide (a
table shared with other inputs of the same ids with `shared_embedding`). A missing id (""
or one of `na_values`) is hashed as "", the way training stored it. A `tf.Example` carries it as a bytes_list; a table column stores
its cells as text.

Example:
>>> import numpy as np
>>> from inputs import InputSpec
>>> user = InputSpec("user", "hashed", dtype="string", num_buckets=1000, embedding_dim=8)
>>> user.is_column, user.sample(2, np.random.default_rng(0)).tolist()
(True, ['id85', 'id63'])
"""

import dataclasses
from typing import Optional

import numpy as np

from inputs.base import InputKind
from inputs.ids import check_ids, describe_ids, embed_ids
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")


@dataclasses.dataclass(frozen=True)
class HashedInput(InputKind):
    """A string id hashed into `num_buckets` rows.

    Args (besides `inputs.base.InputKind`'s):
        num_buckets: int. Embedding rows the ids are hashed into (>= 1).
        shared_embedding: str or None. The name of an embedding table shared with other
            inputs holding the same ids (they need the same buckets and width).
    """

    num_buckets: int = 0
    shared_embedding: Optional[str] = None

    is_column = True

    def __post_init__(self):
        super().__post_init__()
        check_ids(self, hashed=True)

    def preprocess(self, x, tables=None):
        from inputs.layers import Impute
        if self.na_values:  # stored as "" at training time: hash them as ""
            x = Impute("", missing_values=self.na_values, name=f"{self.name}_impute")(x)
        return embed_ids(self, x, tables)

    def describe(self):
        return describe_ids(self)

    def example_feature(self):
        return tf.io.FixedLenFeature([], tf.string, default_value="")

    def from_example(self, value):
        return tf.cast(value, tf.string)

    def sample(self, n, rng):
        return np.array([f"id{i}" for i in rng.integers(0, 100, n)], dtype=object)

    def stored_values(self, cells, column, where):
        values, missing = cells.text(column)
        text = values.to_numpy(zero_copy_only=False).astype(object)
        text[missing] = ""
        return text
