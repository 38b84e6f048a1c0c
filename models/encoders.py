"""Encoders: the trunk that turns preprocessed inputs into a feature vector (one per token
for text).

Each registered encoder is a factory `f(input_shape, model_name, **args) -> keras.Model`
that makes a NEW encoder (fresh weights) each call, so architectures that need one
trunk per task (soft sharing, cross-stitch, single-task, expert networks) call it
once per trunk. Layer names start with the encoder's name, so several encoders can
sit side by side in one functional graph.

- `cnn`: a small CNN for images;
- `mlp`: a multi-layer perceptron for tabular features (or flattened images);
- `keras_application`: any `keras.applications` backbone by name (random weights
  by default, or a local weights file), resized to the backbone's minimum input.
- `bilstm`, `transformer`: for a `text` input's token embeddings, one state per
  token (padding masked): stacked bidirectional LSTMs, a small Transformer encoder.

`cnn` and `mlp` are `keras.Sequential` chains with a `stage_ends` attribute naming
the layers that close a stage (a pooling or dense block): `cross_stitch` puts its
units there. Other encoders are treated as one stage.

Example:
>>> from models.encoders import make_encoder
>>> enc = make_encoder("cnn", (28, 28, 1), name="trunk", filters=(8, 16), units=32)
>>> enc.output_shape
(None, 32)
"""

from typing import Optional

import keras

from utils.arguments import Arg, arguments, check_arguments
from utils.registry import Registry

ENCODERS = Registry("encoder", key="model.encoder")

# Smallest input side each backbone accepts; others default to 32.
MIN_IMAGE_SIZE = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71,
                  "NASNetLarge": 32, "NASNetMobile": 32}

# The encoders an input suits, for the errors of an encoder given the wrong input (the
# input comes from the data, so these are found when the model is built).
BY_INPUT = "cnn or keras_application for images, mlp for vectors, bilstm or transformer for text"


def register_encoder(name):
    return ENCODERS.register(name)


def list_encoders():
    return ENCODERS.names()


def make_encoder(encoder, input_shape, name="encoder", args=None, **kwargs):
    """Builds encoder `encoder` (a registered name); unknown names list known ones.

    Args:
        encoder: str. A registered encoder.
        input_shape: tuple of int. The per-example feature shape.
        name: str. The encoder model's name (and its layers' prefix).
        args: dict. The encoder's arguments (`model.encoder_args`); a dict rather
            than keywords because `keras_application` takes an argument `name`.
        **kwargs: more arguments, merged into `args`.
    """
    args = {**(args or {}), **kwargs}
    check_encoder_args(encoder, args)
    return ENCODERS.get(encoder)(tuple(input_shape), model_name=name, **args)


def check_encoder_args(encoder, args):
    """Fails, listing the valid names, for an unknown encoder or argument, and naming the
    key for an argument of the wrong type."""
    check_arguments(ENCODERS.get(encoder), args or {}, "model.encoder_args",
                    skip=("input_shape", "model_name"), what=f"encoder {encoder!r}")


def encoder_stages(encoder):
    """Splits an encoder into stages: a list of lists of layers, to call in order.

    A `keras.Sequential` with `stage_ends` is cut after each named layer; any
    other encoder is one stage holding the whole model.
    """
    ends = getattr(encoder, "stage_ends", None)
    if not isinstance(encoder, keras.Sequential) or not ends:
        return [[encoder]]
    stages, current = [], []
    for layer in encoder.layers:
        current.append(layer)
        if layer.name in ends:
            stages.append(current)
            current = []
    if current:  # layers after the last stage end join the last stage
        if stages:
            stages[-1].extend(current)
        else:
            stages.append(current)
    return stages


@register_encoder("cnn")
@arguments(filters=Arg(list, "conv filters of each block (two 3x3 convs and a 2x2 pool each)",
                       item=int, range="[1, inf)"),
           units=Arg(int, "width of the final dense layer (the feature vector)", range="[1, inf)"),
           dropout=Arg(float, "dropout before the dense layer", range="[0, 1)"))
def cnn(input_shape, model_name="cnn", filters=(32, 64), units=128, dropout=0.0):
    """A small CNN: [conv3x3-relu, conv3x3-relu, maxpool] per filter count, then dense.

    Args:
        filters: list of int. Conv filters of each block (two convs and a pool each).
        units: int. Width of the final dense layer (the feature vector).
        dropout: float. Dropout before the dense layer.
    """
    _check_images(input_shape, filters)
    p = model_name
    layers, ends = [keras.Input(shape=input_shape)], []
    for i, f in enumerate(filters):
        layers += [keras.layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{p}_conv{i}a"),
                   keras.layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{p}_conv{i}b"),
                   keras.layers.MaxPooling2D(2, name=f"{p}_pool{i}")]
        ends.append(f"{p}_pool{i}")
    layers.append(keras.layers.Flatten(name=f"{p}_flatten"))
    if dropout:
        layers.append(keras.layers.Dropout(dropout, name=f"{p}_dropout"))
    layers.append(keras.layers.Dense(units, activation="relu", name=f"{p}_dense"))
    ends.append(f"{p}_dense")
    model = keras.Sequential(layers, name=model_name)
    model.stage_ends = tuple(ends)
    return model


def _check_images(input_shape, filters):
    """ValueError naming the key unless `input_shape` is an image [H, W, C] that survives a
    2x2 pooling per block of `filters`."""
    if len(input_shape) != 3 or None in tuple(input_shape):
        raise ValueError(f"model.encoder: cnn needs images [H, W, C]; got per-example shape "
                         f"{tuple(input_shape)}; valid: {BY_INPUT}")
    side = min(input_shape[:2])
    if side < 2 ** len(filters):
        most = max(int(side).bit_length() - 1, 0)  # pooled `most` times, a side stays >= 1
        raise ValueError(f"model.encoder_args.filters: {len(filters)} blocks pool "
                         f"{input_shape[0]}x{input_shape[1]} images to nothing (each halves "
                         f"them); valid: at most {most} blocks for these images")


@register_encoder("mlp")
@arguments(units=Arg(list, "width of each dense layer", item=int, range="[1, inf)"),
           dropout=Arg(float, "dropout after each dense layer", range="[0, 1)"))
def mlp(input_shape, model_name="mlp", units=(128, 64), dropout=0.0):
    """A multi-layer perceptron (inputs of any shape are flattened first).

    Args:
        units: list of int. Width of each dense layer.
        dropout: float. Dropout after each dense layer.
    """
    if None in tuple(input_shape):
        raise ValueError(f"model.encoder: mlp needs features of a fixed size; got per-example "
                         f"shape {tuple(input_shape)} (token sequences?); valid: {BY_INPUT}")
    p = model_name
    layers, ends = [keras.Input(shape=input_shape)], []
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten(name=f"{p}_flatten"))
    for i, u in enumerate(units):
        layers.append(keras.layers.Dense(u, activation="relu", name=f"{p}_dense{i}"))
        ends.append(f"{p}_dense{i}")
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"{p}_dropout{i}"))
            ends[-1] = f"{p}_dropout{i}"
    model = keras.Sequential(layers, name=model_name)
    model.stage_ends = tuple(ends)
    return model


@register_encoder("keras_application")
@arguments(name=Arg(str, "a keras.applications backbone (the list of keras 3.15)", choices=(
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
    "DenseNet121", "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB1",
    "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5", "EfficientNetB6",
    "EfficientNetB7", "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2",
    "EfficientNetV2B3", "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S",
    "InceptionResNetV2", "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Large",
    "MobileNetV3Small", "NASNetLarge", "NASNetMobile", "ResNet101", "ResNet101V2", "ResNet152",
    "ResNet152V2", "ResNet50", "ResNet50V2", "VGG16", "VGG19", "Xception")),
           weights=Arg(str, "a local weights file; null: random initialisation", null=True),
           image_size=Arg(int, "side the image is resized to; null: the image's or the backbone's "
                           "minimum", range="[32, inf)", null=True),
           pixel_scale=Arg(float, "pixels are mapped to x * pixel_scale + pixel_offset"),
           pixel_offset=Arg(float, "see pixel_scale"),
           pooling=Arg(str, "global pooling of the last feature map", choices=("avg", "max")),
           trainable=Arg(bool, "false freezes the backbone"),
           units=Arg(int, "a dense projection after pooling; null: none", range="[1, inf)",
                     null=True),
           backbone_args=Arg(dict, "extra keyword arguments of the application", null=True))
def keras_application(input_shape, model_name="backbone", name="MobileNetV2",
                      weights: Optional[str] = None, image_size: Optional[int] = None,
                      pixel_scale=1.0, pixel_offset=0.0, pooling="avg", trainable=True,
                      units: Optional[int] = None, backbone_args: Optional[dict] = None):
    """Any `keras.applications` backbone, adapted to small images.

    The image (0-1 floats, as the image input kind makes them) gets three
    channels when it has one, is resized up to the backbone's minimum size, is
    mapped to `x * pixel_scale + pixel_offset` and runs through the backbone
    without its classifier, pooled to one vector.

    Args:
        name: str. A `keras.applications` class, e.g. `MobileNetV2`, `ResNet50`.
        weights: str or None. None = random initialisation (nothing is downloaded),
            or a local weights file path (e.g. a `*_notop.h5`).
        image_size: int or None. Side the image is resized to; None = the
            larger of the image side and the backbone's minimum (32 for most,
            75 for InceptionV3).
        pixel_scale: float. With `pixel_offset`, the input range the backbone
            expects: (2, -1) gives [-1, 1] (MobileNet, Inception), (255, 0)
            gives 0-255 (EfficientNet, ConvNeXt, which rescale internally).
        pixel_offset: float. See `pixel_scale`.
        pooling: str. `avg` or `max` global pooling of the last feature map.
        trainable: bool. False freezes the backbone (e.g. with loaded weights).
        units: int or None. An optional dense projection after pooling.
        backbone_args: dict. Extra keyword arguments of the application
            (e.g. `{alpha: 0.35}` for MobileNetV2).

    Example:
    >>> enc = make_encoder("keras_application", (28, 28, 1), name="mobilenet",
    ...                    args={"name": "MobileNetV2", "backbone_args": {"alpha": 0.35}})
    >>> enc.output_shape
    (None, 1280)
    """
    height, width, channels = _check_application(name, input_shape)
    size = int(image_size or max(height, width, MIN_IMAGE_SIZE.get(name, 32)))
    inp = keras.Input(shape=input_shape)
    x = _backbone_input(inp, model_name, size, pixel_scale, pixel_offset)
    channels = 3 if channels == 1 else channels  # made RGB by _backbone_input
    backbone = getattr(keras.applications, name)(
        include_top=False, weights=weights, input_shape=(size, size, channels),
        pooling=pooling, **(backbone_args or {}))
    backbone.trainable = bool(trainable)
    x = backbone(x)
    if units:
        x = keras.layers.Dense(units, activation="relu", name=f"{model_name}_dense")(x)
    return keras.Model(inp, x, name=model_name)


def _check_application(name, input_shape):
    """(height, width, channels) of images a `keras.applications` backbone `name` can take."""
    apps = sorted(n for n in dir(keras.applications) if n[:1].isupper())
    if name not in apps:
        raise ValueError(f"model.encoder_args.name: unknown keras application {name!r}; "
                         f"valid: {', '.join(apps)}")
    if len(input_shape) != 3:
        raise ValueError(f"model.encoder: keras_application needs images [H, W, C]; got "
                         f"per-example shape {tuple(input_shape)}; valid: {BY_INPUT}")
    return tuple(input_shape)


def _backbone_input(x, model_name, size, pixel_scale, pixel_offset):
    """0-1 images -> what a backbone takes: three channels, `size` x `size`, scaled."""
    height, width, channels = x.shape[1:]
    if channels == 1:  # backbones (and any pretrained weights) expect RGB
        x = keras.layers.Concatenate(name=f"{model_name}_rgb")([x, x, x])
    if (height, width) != (size, size):
        x = keras.layers.Resizing(size, size, name=f"{model_name}_resize")(x)
    if pixel_scale != 1.0 or pixel_offset != 0.0:
        x = keras.layers.Rescaling(pixel_scale, pixel_offset, name=f"{model_name}_scale")(x)
    return x


# --------------------------------------------------------------------------- text encoders
# They read the masked token embeddings of a `text` input ([batch, tokens, dim]) and return
# one state per token; `supports_masking` hands the padding mask on to the towers and heads
# (a Keras functional model otherwise drops it), and every layer inside respects it: the
# backward LSTM starts at each sentence's last real token, attention ignores padded keys.


def _sequence_shape(input_shape, encoder):
    if len(input_shape) != 2:
        raise ValueError(f"model.encoder: {encoder} needs token sequences [tokens, features] (a "
                         f"`text` input); got per-example shape {tuple(input_shape)}; valid: "
                         f"{BY_INPUT}")


@register_encoder("bilstm")
@arguments(units=Arg(list, "LSTM units of each layer (per direction)", item=int,
                     range="[1, inf)"),
           dropout=Arg(float, "dropout on each layer's input", range="[0, 1)"))
def bilstm(input_shape, model_name="bilstm", units=(64,), dropout=0.0):
    """Stacked bidirectional LSTMs over token embeddings, one state per token.

    Each layer's forward and backward states are concatenated (`2 * units[i]` features
    per token); each layer is a stage (`cross_stitch` can mix after it, `hierarchical`
    with `level_encoders` stacks one such encoder per level).

    Args:
        units: list of int. LSTM units of each layer (per direction).
        dropout: float. Dropout on each layer's input (the embeddings too).

    Example:
    >>> enc = make_encoder("bilstm", (None, 16), name="words", units=[8, 8])
    >>> enc.output_shape
    (None, None, 16)
    """
    _sequence_shape(input_shape, "bilstm")
    p = model_name
    layers, ends = [keras.Input(shape=input_shape)], []
    for i, u in enumerate(units):
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"{p}_dropout{i}"))
        layers.append(keras.layers.Bidirectional(
            keras.layers.LSTM(int(u), return_sequences=True), name=f"{p}_bilstm{i}"))
        ends.append(f"{p}_bilstm{i}")
    model = keras.Sequential(layers, name=model_name)
    model.supports_masking = True
    model.stage_ends = tuple(ends)
    return model


@keras.saving.register_keras_serializable(package="mtl_zoo")
class SinusoidalPosition(keras.layers.Layer):
    """Adds the sinusoidal position code of Vaswani et al. (2017) to [batch, tokens, dim]
    features: no weights, any sentence length."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, x):
        import tensorflow as tf

        length, dim = tf.shape(x)[1], x.shape[-1]
        position = tf.cast(tf.range(length), tf.float32)[:, None]
        rates = tf.pow(10000.0, -tf.cast(tf.range(0, dim, 2), tf.float32) / float(dim))
        angles = position * rates[None, :]
        code = tf.reshape(tf.stack([tf.sin(angles), tf.cos(angles)], axis=-1), [length, -1])
        return x + tf.cast(code[:, :dim], x.dtype)[None]


@register_encoder("transformer")
@arguments(rules={"units": "units % num_heads == 0"},
           units=Arg(int, "model width (divisible by num_heads)", range="[1, inf)"),
           num_layers=Arg(int, "encoder blocks; at most 10^7: each is layers of >= 60 KB, so more "
                                "cannot fit in memory", range="[1, 10000000]"),
           num_heads=Arg(int, "attention heads per block", range="[1, inf)"),
           ff_units=Arg(int, "width of each block's feed-forward layer", range="[1, inf)"),
           dropout=Arg(float, "dropout on attention weights and each sublayer's output",
                         range="[0, 1)"))
def transformer(input_shape, model_name="transformer", units=64, num_layers=2, num_heads=4,
                ff_units=128, dropout=0.1):
    """A small Transformer encoder over token embeddings (post-norm blocks of Vaswani et
    al., 2017: self-attention, then a position-wise feed-forward layer, each with a
    residual connection and layer normalisation), one state per token.

    The embeddings are projected to `units` and given sinusoidal positions; attention
    never looks at padding (the mask reaches every attention layer).

    Args:
        units: int. Model width (divisible by `num_heads`).
        num_layers: int. Encoder blocks.
        num_heads: int. Attention heads per block.
        ff_units: int. Width of the feed-forward layer of each block.
        dropout: float. Dropout on attention weights and on each sublayer's output.

    Example:
    >>> enc = make_encoder("transformer", (None, 16), name="words", units=8, num_heads=2)
    >>> enc.output_shape
    (None, None, 8)
    """
    _sequence_shape(input_shape, "transformer")
    if units % num_heads:
        raise ValueError(f"model.encoder_args.units: {units} is not divisible by "
                         f"num_heads={num_heads}; valid: units % num_heads == 0")
    p = model_name
    inp = keras.Input(shape=input_shape)
    x = keras.layers.Dense(units, name=f"{p}_project")(inp)
    x = SinusoidalPosition(name=f"{p}_position")(x)
    for i in range(num_layers):
        attended = keras.layers.MultiHeadAttention(
            num_heads, units // num_heads, dropout=dropout, name=f"{p}_attention{i}")(x, x)
        attended = keras.layers.Dropout(dropout, name=f"{p}_attention{i}_dropout")(attended)
        x = keras.layers.LayerNormalization(name=f"{p}_norm{i}a")(
            keras.layers.Add(name=f"{p}_residual{i}a")([x, attended]))
        ff = keras.layers.Dense(ff_units, activation="relu", name=f"{p}_ff{i}a")(x)
        ff = keras.layers.Dropout(dropout, name=f"{p}_ff{i}_dropout")(
            keras.layers.Dense(units, name=f"{p}_ff{i}b")(ff))
        x = keras.layers.LayerNormalization(name=f"{p}_norm{i}b")(
            keras.layers.Add(name=f"{p}_residual{i}b")([x, ff]))
    model = keras.Model(inp, x, name=model_name)
    model.supports_masking = True
    return model
