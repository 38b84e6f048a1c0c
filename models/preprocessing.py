"""Raw inputs -> one feature tensor, inside the graph (so a served model takes raw values).

Each input's kind preprocesses it (`inputs/`: rescaling and resizing images, imputing
and normalising numbers, imputing, stripping, looking up (or hashing) and embedding ids,
pooling lists of ids, tokenising and embedding text); inputs holding the same ids may
share one embedding table (`shared_embedding`). Table columns (`spec.is_column`) become one vector: their
features concatenated; any other input (an image, a text) is the model's only input and
its features are the model's. Because all of this is in the Keras graph, the exported
SavedModel takes raw CSV-style values and nothing has to be repeated at serving time.

Example:
>>> from inputs import InputSpec
>>> from models.preprocessing import model_inputs, preprocess
>>> specs = (InputSpec("image", "image", shape=(28, 28, 1), dtype="uint8"),)
>>> inputs = model_inputs(specs)
>>> preprocess(inputs, specs).shape
(None, 28, 28, 1)
"""

import keras

from inputs import inputs_from_config


def model_inputs(specs):
    """One `keras.Input` per raw input, named after it."""
    return {s.name: keras.Input(shape=s.shape, dtype=s.dtype, name=s.name)
            for s in inputs_from_config(specs)}


def preprocess(inputs, specs):
    """Returns one feature tensor: the features of the model's one non-column input (an
    image, a text), or the table columns' features joined in one vector."""
    specs = inputs_from_config(specs)
    alone = [s for s in specs if not s.is_column]
    tables = {}  # embedding tables shared between inputs (`shared_embedding`)
    if alone:
        if len(specs) != 1:
            raise ValueError(f"A model with an {alone[0].kind} input takes exactly one input; "
                             f"got {[s.name for s in specs]}.")
        return alone[0].preprocess(inputs[alone[0].name], tables)
    columns = [s.preprocess(inputs[s.name], tables) for s in specs]
    if len(columns) == 1:
        return columns[0]
    return keras.layers.Concatenate(name="features")(columns)
