"""`categorical`: a string category, looked up in the training vocabulary and embedded.

Inside the model a missing value (an empty string, or one of `na_values`, after
stripping) becomes `fill_value` (usually the most frequent training value), the value is
stripped of surrounding whitespace when the training data was (`strip_whitespace`),
looked up in the vocabulary (plus one out-of-vocabulary bucket) and embedded. A
`tf.Example` carries it as a bytes_list; a table column stores its cells as text ("" for
a missing cell).

Example:
>>> import numpy as np
>>> from inputs import InputSpec
>>> city = InputSpec("city", "categorical", dtype="string", vocabulary=("a", "b"))
>>> city.is_column, city.sample(3, np.random.default_rng(0)).tolist()
(True, ['a', 'b', 'a'])
"""

import math

import numpy as np

from inputs.base import InputKind
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")
keras = LazyModule("keras")


def embedding_dim(vocab_size):
    """Width of a category's embedding: a common rule of thumb, growing slowly with the
    vocabulary, at least 2."""
    return max(2, min(16, int(math.ceil(1.6 * vocab_size ** 0.56))))


class CategoricalInput(InputKind):
    """A string column with a training vocabulary."""

    is_column = True

    def preprocess(self, x):
        from inputs.layers import Impute, StripWhitespace
        if self.fill_value is not None:
            x = Impute(str(self.fill_value), missing_values=self.na_values,
                       name=f"{self.name}_impute")(x)
        if self.strip_whitespace:
            x = StripWhitespace(name=f"{self.name}_strip")(x)
        x = keras.layers.StringLookup(vocabulary=list(self.vocabulary), num_oov_indices=1,
                                      name=f"{self.name}_lookup")(x)
        size = len(self.vocabulary) + 1
        x = keras.layers.Embedding(size, embedding_dim(size), name=f"{self.name}_embed")(x)
        return keras.layers.Flatten(name=f"{self.name}_flat")(x)

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
