"""SavedModel warmup: `assets.extra/tf_serving_warmup_requests`, a TFRecord of PredictionLog.

TF Serving replays these requests after loading a version and before marking it AVAILABLE,
so the first real request does not pay for lazy initialisation. `write_warmup_requests` is
the other half, for exporters and tests.

Example:
    >>> import numpy as np, tempfile, tensorflow as tf
    >>> from tensorflow_serving.apis import predict_pb2
    >>> from serving.core import warmup
    >>> from serving.core.servable import Servable
    >>> from serving.testing import write_toy_saved_model
    >>> path = write_toy_saved_model(tempfile.mkdtemp(), version=1)
    >>> req = predict_pb2.PredictRequest()
    >>> req.inputs["image"].CopyFrom(tf.make_tensor_proto(np.zeros([1, 28, 28, 1], np.uint8)))
    >>> _ = warmup.write_warmup_requests(path, [req])
    >>> warmup.run_warmup(Servable("toy", 1, path))
    1
"""

import os

import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, inference_pb2, predict_pb2,
                                     prediction_log_pb2, regression_pb2)

from serving.core.examples import serialized_examples
from serving.core.tensor_proto import tensor_proto_to_ndarray

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_WARMUP_RECORDS = 1000  # TF Serving's limit


def write_warmup_requests(version_dir, requests):
    """Writes Predict/Classify/Regress/MultiInference requests as a warmup file; returns its path."""
    path = os.path.join(version_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for req in requests:
            log = prediction_log_pb2.PredictionLog()
            if isinstance(req, predict_pb2.PredictRequest):
                log.predict_log.request.CopyFrom(req)
            elif isinstance(req, classification_pb2.ClassificationRequest):
                log.classify_log.request.CopyFrom(req)
            elif isinstance(req, regression_pb2.RegressionRequest):
                log.regress_log.request.CopyFrom(req)
            elif isinstance(req, inference_pb2.MultiInferenceRequest):
                log.multi_inference_log.request.CopyFrom(req)
            else:
                raise TypeError(f"Cannot log a {type(req).__name__} for warmup")
            writer.write(log.SerializeToString())
    return path


def run_warmup(servable):
    """Replays the servable's warmup file (if any); returns the number of records replayed.

    Raises whatever a replayed request raises: a version whose warmup fails does not load.
    """
    path = os.path.join(servable.path, WARMUP_FILE)
    if not os.path.exists(path):
        return 0
    count = 0
    for record in tf.data.TFRecordDataset(path):
        count += 1
        if count > MAX_WARMUP_RECORDS:
            raise ValueError(f"Number of warmup records exceeds the maximum "
                             f"({MAX_WARMUP_RECORDS}) at {path}")
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        kind = log.WhichOneof("log_type")
        if kind == "predict_log":
            req = log.predict_log.request
            inputs = {k: tensor_proto_to_ndarray(v) for k, v in req.inputs.items()}
            output_filter = list(req.output_filter)
            sig_name, _ = servable.predict_signature(req.model_spec.signature_name, output_filter)
            servable.predict(sig_name, inputs, output_filter)
        elif kind == "classify_log":
            req = log.classify_log.request
            servable.classify(req.model_spec.signature_name,
                              serialized_examples(req.input))
        elif kind == "regress_log":
            req = log.regress_log.request
            servable.regress(req.model_spec.signature_name,
                             serialized_examples(req.input))
        elif kind == "multi_inference_log":
            req = log.multi_inference_log.request
            examples = serialized_examples(req.input)
            for task in req.tasks:
                run = servable.classify if task.method_name.endswith("classify") else servable.regress
                run(task.model_spec.signature_name, examples)
        else:
            raise ValueError(f"Unsupported log_type for warmup: {kind}")
    return count
