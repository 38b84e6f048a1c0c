"""Encoders: the shared trunk that turns preprocessed inputs into a feature vector.

Each registered encoder is a factory `f(input_shape, name, **args) -> keras.Model`
that makes a NEW encoder (fresh weights) each call, so architectures that need one
trunk per task (soft sharing, cross-stitch, single-task) call it once per task.

Example:
>>> from models.encoders import make_encoder
>>> enc = make_encoder("cnn", (28, 28, 1), name="trunk", filters=(8, 16), units=32)
>>> enc.output_shape
(None, 32)
"""

import inspect

import keras

ENCODERS = {}


def register_encoder(name):
    def wrap(fn):
        ENCODERS[name] = fn
        return fn
    return wrap


def make_encoder(encoder, input_shape, name="encoder", **args):
    """Builds encoder `encoder` (a registered name); unknown names list known ones."""
    if encoder not in ENCODERS:
        raise ValueError(f"model.encoder: unknown encoder {encoder!r}; known encoders: "
                         f"{', '.join(sorted(ENCODERS))}")
    fn = ENCODERS[encoder]
    valid = [p for p in inspect.signature(fn).parameters if p not in ("input_shape", "name")]
    unknown = sorted(set(args) - set(valid))
    if unknown:
        raise ValueError(f"model.encoder_args: unknown argument(s) {unknown} for encoder "
                         f"{encoder!r}; valid: {', '.join(valid)}")
    return fn(tuple(input_shape), name=name, **args)


@register_encoder("cnn")
def cnn(input_shape, name="cnn", filters=(32, 64), units=128, dropout=0.0):
    """A small CNN: [conv3x3-relu, conv3x3-relu, maxpool] per filter count, then dense."""
    x = inp = keras.Input(shape=input_shape)
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i}a")(x)
        x = keras.layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i}b")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Dense(units, activation="relu", name="dense")(x)
    return keras.Model(inp, x, name=name)


@register_encoder("mlp")
def mlp(input_shape, name="mlp", units=(128, 64), dropout=0.0):
    """A multi-layer perceptron (inputs of any shape are flattened first)."""
    x = inp = keras.Input(shape=input_shape)
    if len(input_shape) > 1:
        x = keras.layers.Flatten(name="flatten")(x)
    for i, u in enumerate(units):
        x = keras.layers.Dense(u, activation="relu", name=f"dense{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{i}")(x)
    return keras.Model(inp, x, name=name)
