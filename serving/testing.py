"""Small SavedModels with the signatures our exporter writes, for tests and the benchmark.

They stand in for real exports (the server never imports our model code): a toy image model
(`serving_default`, `tf_example`, `classify_digit`, `classify_is_even`, `regress_brightness`,
and `tasks`, which names its tasks and their kinds as models/export.py does), a tabular one
with several named inputs (whose tasks are not described), and a small CNN for the benchmark.
`offset` shifts the `brightness` head so tests can tell versions apart.

Example:
    >>> import tempfile, os
    >>> from serving.testing import write_toy_saved_model
    >>> path = write_toy_saved_model(tempfile.mkdtemp(), version=3)
    >>> os.path.basename(path), os.path.exists(os.path.join(path, "saved_model.pb"))
    ('3', True)
"""

import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from serving.core.servable import CLASSIFY_METHOD, REGRESS_METHOD
from utils.saved_model import set_method_names

IMAGE_SPEC = tf.TensorSpec([None, 28, 28, 1], tf.uint8, name="image")
EXAMPLES_SPEC = tf.TensorSpec([None], tf.string, name="examples")
INPUTS_SPEC = tf.TensorSpec([None], tf.string, name="inputs")


def tasks_signature(described, answer):
    """The `tasks` signature of models/export.py: `answer(examples)` (tf_example's outputs)
    with each output named `<task>.<kind>.<output>`, for {task: (kind, [its outputs])}."""
    aliases = {f"{task}.{kind}.{out}": out for task, (kind, outs) in described.items()
               for out in outs}

    @tf.function(input_signature=[EXAMPLES_SPEC])
    def tasks(examples):
        outputs = answer(examples)
        return {alias: outputs[out] for alias, out in aliases.items()}

    return tasks


def _save_atomically(module, base_path, version, signatures, methods):
    """Saves into a temp folder beside the target, then renames: pollers never see half a model."""
    os.makedirs(base_path, exist_ok=True)
    final = os.path.join(base_path, str(version))
    tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=base_path)
    tf.saved_model.save(module, tmp, signatures=signatures)
    set_method_names(tmp, methods)
    if os.path.exists(final):
        shutil.rmtree(final)
    os.rename(tmp, final)
    return final


class _ToyImageModel(tf.Module):
    def __init__(self, offset):
        super().__init__()
        rng = np.random.RandomState(0)
        self.w_digit = tf.Variable(rng.normal(size=[784, 10]).astype(np.float32) / 28.0)
        self.w_even = tf.Variable(rng.normal(size=[784, 1]).astype(np.float32) / 28.0)
        self.offset = tf.Variable(float(offset))

    def heads(self, image):
        x = tf.reshape(tf.cast(image, tf.float32) / 255.0, [-1, 784])
        digit = tf.nn.softmax(x @ self.w_digit)
        return {
            "digit": digit,
            "digit_class": tf.argmax(digit, axis=-1),
            "is_even": tf.sigmoid(x @ self.w_even)[:, 0],
            "brightness": tf.reduce_mean(x, axis=-1) + self.offset,
        }

    def parse(self, serialized):
        feats = tf.io.parse_example(serialized, {"image": tf.io.FixedLenFeature([], tf.string)})
        return tf.reshape(tf.io.decode_raw(feats["image"], tf.uint8), [-1, 28, 28, 1])


def write_toy_saved_model(base_path, version=1, offset=0.0):
    """Writes `<base_path>/<version>/` with the toy image model; returns that folder."""
    m = _ToyImageModel(offset)

    @tf.function(input_signature=[IMAGE_SPEC])
    def serving_default(image):
        return m.heads(image)

    @tf.function(input_signature=[EXAMPLES_SPEC])
    def tf_example(examples):
        return m.heads(m.parse(examples))

    @tf.function(input_signature=[INPUTS_SPEC])
    def classify_digit(inputs):
        scores = m.heads(m.parse(inputs))["digit"]
        labels = tf.constant([str(i) for i in range(10)])
        return {"classes": tf.tile(labels[None], [tf.shape(scores)[0], 1]), "scores": scores}

    @tf.function(input_signature=[INPUTS_SPEC])
    def classify_is_even(inputs):
        p = m.heads(m.parse(inputs))["is_even"]
        labels = tf.constant(["0", "1"])
        return {"classes": tf.tile(labels[None], [tf.shape(p)[0], 1]),
                "scores": tf.stack([1.0 - p, p], axis=1)}

    @tf.function(input_signature=[INPUTS_SPEC])
    def regress_brightness(inputs):
        return {"outputs": m.heads(m.parse(inputs))["brightness"]}

    signatures = {"serving_default": serving_default, "tf_example": tf_example,
                  "classify_digit": classify_digit, "classify_is_even": classify_is_even,
                  "regress_brightness": regress_brightness,
                  "tasks": tasks_signature({"digit": ("multiclass", ["digit", "digit_class"]),
                                            "is_even": ("binary", ["is_even"]),
                                            "brightness": ("regression", ["brightness"])},
                                           lambda examples: m.heads(m.parse(examples)))}
    methods = {"classify_digit": CLASSIFY_METHOD, "classify_is_even": CLASSIFY_METHOD,
               "regress_brightness": REGRESS_METHOD}
    return _save_atomically(m, base_path, version, signatures, methods)


def write_tabular_saved_model(base_path, version=1):
    """A model with several named inputs (float `age`, string `city`), like a CSV export.

    Outputs: `income` (regression), `churn` (binary), `segment` [-1, 3] + `segment_class`,
    and `city_bytes` (the input echoed back, to exercise `_bytes` outputs).
    """
    m = tf.Module()
    m.scale = tf.Variable(0.5)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="age"),
                                  tf.TensorSpec([None], tf.string, name="city")])
    def serving_default(age, city):
        h = tf.cast(tf.strings.to_hash_bucket_fast(city, 3), tf.float32)
        segment = tf.nn.softmax(tf.stack([age * 0.01, h, -h], axis=1))
        return {"income": age * m.scale, "churn": tf.sigmoid(age * 0.01 - 0.3),
                "segment": segment, "segment_class": tf.argmax(segment, axis=1),
                "city_bytes": city}

    return _save_atomically(m, base_path, version, {"serving_default": serving_default}, {})


class _SmallCNN(tf.Module):
    """About the size of our multi_mnist model: 2 conv layers, a dense layer, 2 heads."""

    def __init__(self):
        super().__init__()
        rng = np.random.RandomState(0)
        w = lambda *s: tf.Variable(rng.normal(scale=0.1, size=s).astype(np.float32))
        self.c1, self.c2 = w(3, 3, 1, 32), w(3, 3, 32, 64)
        self.d, self.h_digit, self.h_even = w(7 * 7 * 64, 128), w(128, 10), w(128, 1)

    def __call__(self, image):
        x = tf.cast(image, tf.float32) / 255.0
        x = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, self.c1, 1, "SAME")), 2, 2, "VALID")
        x = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, self.c2, 1, "SAME")), 2, 2, "VALID")
        x = tf.nn.relu(tf.reshape(x, [-1, 7 * 7 * 64]) @ self.d)
        digit = tf.nn.softmax(x @ self.h_digit)
        return {"digit": digit, "digit_class": tf.argmax(digit, axis=-1),
                "is_even": tf.sigmoid(x @ self.h_even)[:, 0]}


def write_cnn_saved_model(base_path, version=1):
    """Writes the benchmark CNN (`serving_default`: image uint8 -> digit, digit_class, is_even)."""
    m = _SmallCNN()

    @tf.function(input_signature=[IMAGE_SPEC])
    def serving_default(image):
        return m(image)

    return _save_atomically(m, base_path, version, {"serving_default": serving_default}, {})


def image_example(image):
    """A serialized tf.Example holding a uint8 [28, 28, 1] image as raw bytes (`image`)."""
    from tensorflow.core.example import example_pb2

    ex = example_pb2.Example()
    ex.features.feature["image"].bytes_list.value.append(np.asarray(image, np.uint8).tobytes())
    return ex.SerializeToString()
