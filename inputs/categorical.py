"""`categorical`: a string category, looked up in the training vocabulary and embedded.

Inside the model a missing value (an empty string, or one of `na_values`, after
stripping) becomes `fill_value` (usually the most frequent training value), the value is
stripped of surrounding whitespace when the training data was (`strip_whitespace`),
looked up in the vocabulary (plus `num_oov_buckets` out-of-vocabulary buckets, shared by
the values outside it) and embedded (`embedding_dim` wide, else a rule of thumb; a table
shared with other inputs of the same ids with `shared_embedding`). A `tf.Example` carries
it as a bytes_list; a table column stores its cells as text ("" for a missing cell).

Example:
>>> import numpy as np
>>> from inputs import InputSpec
>>> city = InputSpec("city", "categorical", dtype="string", vocabulary=("a", "b"))
>>> city.is_column, city.sample(3, np.random.default_rng(0)).tolist()
(True, ['a', 'b', 'a'])
"""

import dataclasses
from typing import Optional

import numpy as np

from inputs.base import InputKind
from inputs.ids import check_ids, describe_ids, embed_ids
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")


@dataclasses.dataclass(frozen=True)
class CategoricalInput(InputKind):
    """A string column with a training vocabulary.

    Args (besides `inputs.base.InputKind`'s):
        num_oov_buckets: int. Rows shared by values outside the vocabulary (hashed among
            them); 1 by default.
        shared_embedding: str or None. The name of an embedding table shared with other
            inputs holding the same ids (they need the same vocabulary and width).
    """

    num_oov_buckets: int = 1
    shared_embedding: Optional[str] = None

    is_column = True

    def __post_init__(self):
        super().__post_init__()
        check_ids(self, hashed=False)

    def preprocess(self, x, tables=None):
        from inputs.layers import Impute
        if self.fill_value is not None:
            x = Impute(str(self.fill_value), missing_values=self.na_values,
                       name=f"{self.name}_impute")(x)
        return embed_ids(self, x, tables)

    def describe(self):
        return describe_ids(self)

    def example_feature(self):
        return tf.io.FixedLenFeature([], tf.string, default_value="")

    def from_example(self, value):
        return tf.cast(value, tf.string)

    def sample(self, n, rng):
        shape = (n,) + tuple(self.shape)
        vocab = list(self.vocabulary) or ["?"]
        return np.array([vocab[i % len(vocab)] for i in range(int(np.prod(shape)))],
                        dtype=object).reshape(shape)

    def stored_values(self, cells, column, where):
        values, missing = cells.text(column)
        text = values.to_numpy(zero_copy_only=False).astype(object)
        text[missing] = ""
        return text
