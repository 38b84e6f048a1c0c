"""`numeric`: a number (or a fixed-size vector of them), imputed and normalised in the model.

A missing value (NaN) becomes `fill_value` (usually the training mean), then the value is
normalised with the training `mean` and `variance`. A `tf.Example` carries it as a
float_list; a missing feature parses as the fill value. A table column's cells must be
numbers (a missing cell is NaN).

Example:
>>> import numpy as np
>>> from inputs import InputSpec
>>> age = InputSpec("age", "numeric", mean=40.0, variance=100.0, fill_value=40.0)
>>> age.is_column, age.stored_feature, age.example_feature().default_value
(True, ('float32', ()), 40.0)
"""

import numpy as np

from inputs.base import InputKind
from utils.lazy import LazyModule

tf = LazyModule("tensorflow")
keras = LazyModule("keras")


class NumericInput(InputKind):
    """A float column: one value per example (shape `()`), or a vector (`(d,)`)."""

    is_column = True

    def preprocess(self, x, tables=None):
        from inputs.layers import Impute
        if not self.shape:
            x = keras.layers.Reshape((1,), name=f"{self.name}_column")(x)
        if self.fill_value is not None:
            x = Impute(float(self.fill_value), name=f"{self.name}_impute")(x)
        return keras.layers.Normalization(
            mean=self.mean if self.mean is not None else 0.0,
            variance=self.variance if self.variance is not None else 1.0,
            name=f"{self.name}_normalize")(x)

    def describe(self):
        mean = self.mean if self.mean is not None else 0.0
        std = (self.variance if self.variance is not None else 1.0) ** 0.5
        return f"normalised (mean {mean:.4g}, std {std:.4g})"

    def example_feature(self):
        default = float(self.fill_value) if isinstance(self.fill_value, (int, float)) else (
            float(self.mean) if self.mean is not None else 0.0)
        return tf.io.FixedLenFeature(
            list(self.shape), tf.float32,
            default_value=np.full(self.shape, default, np.float32).tolist() if self.shape
            else default)

    def from_example(self, value):
        return tf.cast(value, tf.as_dtype(self.dtype))

    def sample(self, n, rng):
        mean = self.mean if self.mean is not None else 0.0
        return (mean + rng.standard_normal((n,) + tuple(self.shape))).astype(self.dtype)

    @property
    def stored_feature(self):
        return "float32", ()

    def stored_values(self, cells, column, where):
        x, bad, _ = cells.numbers(column)
        if bad.size:
            raise ValueError(f"{where(int(bad[0]))}: numeric feature "
                             f"{column[int(bad[0])].as_py()!r} is not a number")
        return x.astype(np.float32)
