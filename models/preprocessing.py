"""Raw inputs -> model features, inside the graph (so a served model takes raw values).

Images are rescaled from 0-`max_value` to 0-1 (and resized when the spec asks).
Tabular columns become one vector: numeric columns are imputed (a NaN becomes
the training mean) and normalised with training statistics; string columns are
imputed (an empty string, or one of the spec's `na_values`, becomes the most frequent
training value), stripped of surrounding whitespace when the training data was, looked up
in their training vocabulary (plus one out-of-vocabulary bucket) and embedded.
Because all of this is in the Keras graph, the exported SavedModel takes raw
CSV-style values and nothing has to be repeated at serving time.

Example:
>>> import keras
>>> from data.inputs import InputSpec
>>> from models.preprocessing import model_inputs, preprocess
>>> specs = (InputSpec("image", "image", shape=(28, 28, 1), dtype="uint8"),)
>>> inputs = model_inputs(specs)
>>> preprocess(inputs, specs).shape
(None, 28, 28, 1)
"""

import math

import keras
import tensorflow as tf

from data.inputs import InputSpec
from models.text_preprocessing import preprocess_text


@keras.saving.register_keras_serializable(package="mtl_zoo")
class Impute(keras.layers.Layer):
    """Replaces missing raw values by `fill_value`: NaN numbers; strings that are empty
    or one of `missing_values` once stripped of ASCII whitespace.

    Args:
        fill_value: float or str. The value put where the input is missing.
        missing_values: list of str. Strings meaning "missing" besides "" (a CSV's
            `na_values`, e.g. `["?", "NA"]`), compared after stripping.

    Example:
    >>> import tensorflow as tf
    >>> Impute(2.5)(tf.constant([1.0, float("nan")])).numpy().tolist()
    [1.0, 2.5]
    >>> Impute("a", missing_values=["?"])(tf.constant(["b", " ? ", " "])).numpy().tolist()
    [b'b', b'a', b'a']
    """

    def __init__(self, fill_value, missing_values=(), **kwargs):
        super().__init__(**kwargs)
        self.fill_value = fill_value
        self.missing_values = [str(v) for v in missing_values]
        # Strings cannot be autocast; keep the layer out of mixed precision.
        self._convert_input_args = False

    def call(self, x):
        x = tf.convert_to_tensor(x)
        if x.dtype == tf.string:
            stripped = tf.strings.strip(x)
            missing = tf.equal(stripped, "")
            for value in self.missing_values:
                missing = tf.logical_or(missing, tf.equal(stripped, value))
            return tf.where(missing, tf.constant(str(self.fill_value)), x)
        x = tf.cast(x, tf.float32)
        return tf.where(tf.math.is_nan(x), tf.constant(float(self.fill_value), tf.float32), x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, x):
        dtype = "string" if x.dtype == "string" else "float32"
        return keras.KerasTensor(x.shape, dtype=dtype)

    def get_config(self):
        return {**super().get_config(), "fill_value": self.fill_value,
                "missing_values": list(self.missing_values)}


@keras.saving.register_keras_serializable(package="mtl_zoo")
class StripWhitespace(keras.layers.Layer):
    """Strips leading and trailing ASCII whitespace (space, \\t, \\n, \\v, \\f, \\r) from
    strings: the normalisation a CSV's `strip_whitespace` applies to training cells
    (`pyarrow.compute.ascii_trim_whitespace`, the same characters), kept in the graph so a
    served model takes cells exactly as they are in the file.

    Example:
    >>> import tensorflow as tf
    >>> StripWhitespace()(tf.constant([" Self-employed ", "a"])).numpy().tolist()
    [b'Self-employed', b'a']
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False

    def call(self, x):
        return tf.strings.strip(x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape, dtype="string")


def model_inputs(specs):
    """One `keras.Input` per raw input, named after it."""
    specs = [InputSpec.from_config(s) for s in specs]
    return {s.name: keras.Input(shape=s.shape, dtype=s.dtype, name=s.name) for s in specs}


def embedding_dim(vocab_size):
    # A common rule of thumb: grows slowly with the vocabulary, at least 2.
    return max(2, min(16, int(math.ceil(1.6 * vocab_size ** 0.56))))


def preprocess_image(x, spec):
    """Rescales pixels to 0-1 and resizes when `spec.resize` is set."""
    max_value = spec.max_value if spec.max_value is not None else 255.0
    x = keras.layers.Rescaling(1.0 / float(max_value), name=f"{spec.name}_rescale")(x)
    if spec.resize:
        x = keras.layers.Resizing(*spec.resize, name=f"{spec.name}_resize")(x)
    return x


def preprocess_numeric(x, spec):
    """Imputes NaN with `fill_value`, then normalises with the training mean/variance."""
    if not spec.shape:
        x = keras.layers.Reshape((1,), name=f"{spec.name}_column")(x)
    if spec.fill_value is not None:
        x = Impute(float(spec.fill_value), name=f"{spec.name}_impute")(x)
    return keras.layers.Normalization(
        mean=spec.mean if spec.mean is not None else 0.0,
        variance=spec.variance if spec.variance is not None else 1.0,
        name=f"{spec.name}_normalize")(x)


def preprocess_categorical(x, spec):
    """Imputes missing strings, strips whitespace (when the spec says so), looks the value up
    (1 OOV bucket) and embeds it."""
    if spec.fill_value is not None:
        x = Impute(str(spec.fill_value), missing_values=spec.na_values,
                   name=f"{spec.name}_impute")(x)
    if spec.strip_whitespace:
        x = StripWhitespace(name=f"{spec.name}_strip")(x)
    x = keras.layers.StringLookup(vocabulary=list(spec.vocabulary), num_oov_indices=1,
                                  name=f"{spec.name}_lookup")(x)
    size = len(spec.vocabulary) + 1
    x = keras.layers.Embedding(size, embedding_dim(size), name=f"{spec.name}_embed")(x)
    return keras.layers.Flatten(name=f"{spec.name}_flat")(x)


def preprocess(inputs, specs):
    """Returns one feature tensor: the rescaled image, the masked token embeddings of a
    text input (`models/text_preprocessing.py`), or the tabular feature vector."""
    specs = [InputSpec.from_config(s) for s in specs]
    for kind, prepare in (("image", preprocess_image), ("text", preprocess_text)):
        found = [s for s in specs if s.kind == kind]
        if found:
            if len(specs) != 1:
                raise ValueError(f"A model with an {kind} input takes exactly one input; got "
                                 f"{[s.name for s in specs]}.")
            return prepare(inputs[found[0].name], found[0])
    columns = []
    for s in specs:
        if s.kind == "numeric":
            columns.append(preprocess_numeric(inputs[s.name], s))
        else:
            columns.append(preprocess_categorical(inputs[s.name], s))
    if len(columns) == 1:
        return columns[0]
    return keras.layers.Concatenate(name="features")(columns)
