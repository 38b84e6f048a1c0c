"""A written SavedModel's saved_model.pb, read and edited: by the exporter, the server and tests.

TF2's `tf.saved_model.save` writes every signature with the `predict` method name, while TF
Serving checks the method name of classify and regress signatures; the training stack's
exporter (models/export.py) and the serving stack's test models (serving/testing.py) both set
them here, after saving; the server reads the signatures with `read_proto`. The two stacks
import nothing of each other, so these functions live below both. TensorFlow's protos are
imported when a function is called, not when this module is imported.

Example:
>>> import os, tempfile
>>> import tensorflow as tf
>>> from utils.saved_model import read_proto, set_method_names
>>> module = tf.Module()
>>> module.f = tf.function(lambda x: {"outputs": x}, input_signature=[tf.TensorSpec([None])])
>>> path = tempfile.mkdtemp()
>>> tf.saved_model.save(module, path, signatures={"regress_y": module.f})
>>> set_method_names(path, {"regress_y": "tensorflow/serving/regress"})
>>> read_proto(path).meta_graphs[0].signature_def["regress_y"].method_name
'tensorflow/serving/regress'
"""

import os


def read_proto(saved_model_dir):
    """The `SavedModel` proto of `saved_model_dir`'s saved_model.pb."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    return proto


def set_method_names(saved_model_dir, methods):
    """Rewrites, in `saved_model_dir`'s saved_model.pb, the method name of each signature of
    `methods` ({signature name: method name}, e.g. `"tensorflow/serving/classify"`)."""
    proto = read_proto(saved_model_dir)
    for name, method in methods.items():
        proto.meta_graphs[0].signature_def[name].method_name = method
    with open(os.path.join(saved_model_dir, "saved_model.pb"), "wb") as f:
        f.write(proto.SerializeToString())
