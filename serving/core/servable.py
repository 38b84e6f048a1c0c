"""One loaded version of a SavedModel: its signatures and how to run them.

A `Servable` is immutable once loaded; the model manager hands the same object to every
request that resolved to that version, so a request that started on a version finishes on
it even if a newer version replaces it meanwhile (the old object lives until its last user).

A Predict, whatever its protocol, takes the same steps: `ModelManager.resolve` gives the
Servable, `predict_signature` the signature and its input dtypes (the protocol decodes its
tensors with them), then `start` (a Future of the outputs) or `predict` (waited for) runs it.
The protocol calls the core at each step; the core never calls back into a protocol.

Example:
    >>> from serving.core.servable import Servable
    >>> from serving.testing import write_toy_saved_model
    >>> import tempfile, numpy as np
    >>> path = write_toy_saved_model(tempfile.mkdtemp(), version=1)
    >>> s = Servable("toy", 1, path)
    >>> sig, dtypes = s.predict_signature("")
    >>> sig, dtypes
    ('serving_default', {'image': 4})
    >>> outputs = s.predict(sig, {"image": np.zeros([2, 28, 28, 1], np.uint8)}, ["digit"])
    >>> sorted(outputs), outputs["digit"].shape
    (['digit'], (2, 10))
"""

import concurrent.futures
import logging
import re

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import classification_pb2, regression_pb2

from serving.core.batching import BatchScheduler
from serving.core.tensor_proto import NUMPY_DTYPES, dtype_name
from serving.errors import ServingError, failed_precondition, internal, invalid_argument
from utils.saved_model import read_proto

log = logging.getLogger(__name__)

PREDICT_METHOD = "tensorflow/serving/predict"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
DEFAULT_SIGNATURE = "serving_default"
# Bounds the work one request can ask for (`--max_examples_per_request`).
DEFAULT_MAX_EXAMPLES = 4096


def read_signature_defs(path):
    """{name: SignatureDef} of the first MetaGraph of the SavedModel at `path`."""
    return dict(read_proto(path).meta_graphs[0].signature_def)


def filter_outputs(outputs, output_filter):
    """The outputs named in `output_filter` (all of them when it is empty)."""
    return {k: outputs[k] for k in output_filter} if output_filter else outputs


def _op_error(e):
    """tf.errors.OpError -> ServingError with the same canonical code and the kernel's own
    message, as tensorflow_model_server reports it (without the Python runtime's
    "Graph execution error ... Detected at node" preamble and "[Op:...]" suffix)."""
    import grpc

    code = {c.value[0]: c.name for c in grpc.StatusCode}.get(e.error_code, "UNKNOWN")
    return ServingError(code, kernel_message(e.message))


def kernel_message(message):
    """Strips what TensorFlow's Python eager runtime adds around an op's error message.

    >>> kernel_message("Graph execution error:\\n\\nDetected at node P defined at (most recent "
    ...                "call last):\\n<stack traces unavailable>\\nKey: age. Data types don't match."
    ...                "\\n\\t [[{{node P}}]] [Op:__inference_fn_12]")
    "Key: age. Data types don't match.\\n\\t [[{{node P}}]]"
    """
    message = re.sub(r"^Graph execution error:\s*", "", message)
    message = re.sub(r"^Detected at node .*? defined at \(most recent call last\):\n"
                     r"(?:.*\n)*?<stack traces unavailable>\n", "", message)
    return re.sub(r"\s*\[Op:[^\]]*\]\s*$", "", message).strip()


def _is_batchable(sig):
    tensors = list(sig.inputs.values()) + list(sig.outputs.values())
    return bool(sig.inputs) and all(
        not t.tensor_shape.unknown_rank and t.tensor_shape.dim and t.tensor_shape.dim[0].size == -1
        for t in tensors)


class Servable:
    """A SavedModel version ready to answer Predict, Classify and Regress.

    Args:
        name: str. Model name.
        version: int. Version number.
        path: str. The version folder (holding saved_model.pb).
        batch_options: optional BatchOptions; when given, batchable signatures get a scheduler.
        on_batch: optional callable(signature_name, batch_size) for metrics.
        max_examples: int. Most examples (0th dimension of an input whose signature leaves it
            open) one request may hold; 0: no limit.
    """

    def __init__(self, name, version, path, batch_options=None, on_batch=None,
                 max_examples=DEFAULT_MAX_EXAMPLES):
        self.name, self.version, self.path = name, version, path
        self.max_examples = max_examples
        self.signature_defs = read_signature_defs(path)
        self._loaded = tf.saved_model.load(path)
        self._fns = dict(self._loaded.signatures)
        self._input_dtypes = {}
        self._schedulers = {}
        for sig_name, sig in self.signature_defs.items():
            self._input_dtypes[sig_name] = {k: v.dtype for k, v in sig.inputs.items()}
            if batch_options and sig_name in self._fns and _is_batchable(sig):
                report = (lambda n: (lambda size: on_batch(n, size)))(sig_name) if on_batch else None
                self._schedulers[sig_name] = BatchScheduler(
                    (lambda n: (lambda inputs: self._call(n, inputs)))(sig_name),
                    batch_options, report)

    def close(self):
        for s in self._schedulers.values():
            s.close()

    # ------------------------------------------------------------------ signatures
    def signature(self, name, method=None):
        """The SignatureDef called `name` ('' means serving_default); errors as TF Serving's."""
        name = name or DEFAULT_SIGNATURE
        sig = self.signature_defs.get(name)
        if method in (CLASSIFY_METHOD, REGRESS_METHOD):
            if sig is None:
                raise invalid_argument(f"No signature was found with the name: {name}")
            if sig.method_name != method:
                kind = "classification" if method == CLASSIFY_METHOD else "regression"
                raise invalid_argument(
                    f"Expected {kind} signature method_name to be {method}. "
                    f"Was: {sig.method_name}")
        elif sig is None or name not in self._fns:
            raise failed_precondition(f'Serving signature key "{name}" not found.')
        return name, sig

    # ------------------------------------------------------------------ running
    def _call(self, sig_name, inputs):
        """Calls the signature function; inputs are validated numpy arrays."""
        try:
            result = self._fns[sig_name](**{k: tf.constant(v) for k, v in inputs.items()})
        except tf.errors.OpError as e:
            raise _op_error(e) from None
        except (TypeError, ValueError) as e:
            raise invalid_argument(str(e)) from None
        return {k: v.numpy() for k, v in result.items()}

    def _check_inputs(self, sig, inputs):
        wanted, sent = set(sig.inputs), set(inputs)
        if wanted != sent:
            raise invalid_argument(
                f"input size does not match signature: {len(sent)}!={len(wanted)} "
                f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(wanted))}}}). "
                f"Sent extra: {{{','.join(sorted(sent - wanted))}}}. "
                f"Missing but required: {{{','.join(sorted(wanted - sent))}}}.")
        checked = {}
        for name, arr in inputs.items():
            info = sig.inputs[name]
            want = NUMPY_DTYPES[info.dtype]
            if arr.dtype != want:
                if want == object and arr.dtype.kind in "SU":
                    arr = arr.astype(object)
                else:
                    raise invalid_argument(
                        f"Expects arg[{name}] to be {dtype_name(info.dtype)} but "
                        f"{arr.dtype.name} is provided")
            shape = info.tensor_shape
            if not shape.unknown_rank:
                dims = [d.size for d in shape.dim]
                if len(dims) != arr.ndim or any(d not in (-1, a) for d, a in zip(dims, arr.shape)):
                    raise invalid_argument(
                        f"Input {name} has shape {list(arr.shape)} but the signature expects "
                        f"{dims} (-1: any size)")
            if arr.ndim and (shape.unknown_rank or shape.dim[0].size == -1):
                self._check_examples(arr.shape[0])
            checked[name] = arr
        return checked

    def _check_examples(self, count):
        if self.max_examples and count > self.max_examples:
            raise invalid_argument(
                f"The request holds {count} examples; this server takes at most "
                f"{self.max_examples} per request (--max_examples_per_request)")

    def predict_signature(self, signature_name, output_filter=(), info=None):
        """The first step of a Predict: (signature name, {input name: DataType}) of the
        signature called `signature_name` ('' means serving_default), its method and the
        request's `output_filter` checked. `info` (a dict, for metrics) gets "signature"."""
        name, sig = self.signature(signature_name)
        self._check_output_filter(sig, output_filter)
        if info is not None:
            info["signature"] = name
        return name, self._input_dtypes[name]

    def start(self, signature_name, inputs, executor=None):
        """Starts a Predict on {input name: ndarray} (decoded with `predict_signature`'s
        dtypes): the inputs are checked against the signature, argument errors raise here
        before anything is queued; returns a concurrent Future of all the outputs. The model
        runs in the batcher when the signature has one; otherwise on `executor` when given (the
        asynchronous servers must not block their event loop), else right here."""
        inputs = self._check_inputs(self.signature_defs[signature_name], inputs)
        return self._submit(signature_name, inputs, executor)

    def predict(self, signature_name, inputs, output_filter=(), timeout_s=None):
        """`start`, waited for in this thread: the outputs named in `output_filter` (all when
        it is empty); DEADLINE_EXCEEDED after `timeout_s`."""
        try:
            outputs = self.start(signature_name, inputs).result(timeout_s)
        except concurrent.futures.TimeoutError:
            raise ServingError("DEADLINE_EXCEEDED", "Deadline exceeded") from None
        return filter_outputs(outputs, output_filter)

    def _submit(self, sig_name, inputs, executor=None):
        scheduler = self._schedulers.get(sig_name)
        if scheduler is not None:
            return scheduler.submit(inputs, executor)
        if executor is not None:
            return executor.submit(self._call, sig_name, inputs)
        future = concurrent.futures.Future()
        try:
            future.set_result(self._call(sig_name, inputs))
        except Exception as e:  # noqa: BLE001 - delivered to the caller
            future.set_exception(e)
        return future

    @staticmethod
    def _check_output_filter(sig, output_filter):
        if sig.method_name not in (PREDICT_METHOD, CLASSIFY_METHOD, REGRESS_METHOD):
            raise internal(
                f"Expected prediction signature method_name to be one of {{{PREDICT_METHOD}, "
                f"{CLASSIFY_METHOD}, {REGRESS_METHOD}}}. Was: {sig.method_name}")
        seen = set()
        for alias in output_filter:
            if alias not in sig.outputs:
                raise invalid_argument(
                    f"output tensor alias not found in signature: {alias} Outputs expected to "
                    f"be in the set {{{','.join(sorted(sig.outputs))}}}.")
            if alias in seen:
                raise invalid_argument(f"duplicate output tensor alias: {alias}")
            seen.add(alias)

    def _run_examples(self, signature_name, method, serialized, timeout_s):
        name, sig = self.signature(signature_name, method)
        if len(sig.inputs) != 1:
            raise invalid_argument(
                f"Expected one input Tensor in the signature {name}, found {len(sig.inputs)}")
        input_name = next(iter(sig.inputs))
        self._check_examples(len(serialized))
        arr = np.empty(len(serialized), dtype=object)
        arr[:] = serialized
        return name, sig, self.predict(name, {input_name: arr}, (), timeout_s)

    def classify(self, signature_name, serialized, timeout_s=None):
        """Returns (signature name, ClassificationResult) for serialized tf.Examples."""
        name, sig, out = self._run_examples(signature_name, CLASSIFY_METHOD, serialized, timeout_s)
        classes, scores = out.get("classes"), out.get("scores")
        if classes is None and scores is None:
            raise invalid_argument(
                f"Expected classification signature outputs 'classes' and/or 'scores' in {name}")
        n = len(serialized)
        for label, arr in (("classes", classes), ("scores", scores)):
            if arr is not None and (arr.ndim not in (1, 2) or arr.shape[0] != n):
                raise invalid_argument(
                    f"Expected {label} Tensor of shape [batch_size, num_classes] but got "
                    f"{list(arr.shape)}")
        result = classification_pb2.ClassificationResult()
        ref = classes if classes is not None else scores
        width = ref.shape[1] if ref.ndim == 2 else 1
        for i in range(n):
            c = result.classifications.add()
            for j in range(width):
                cls = c.classes.add()
                if classes is not None:
                    lab = classes[i, j] if classes.ndim == 2 else classes[i]
                    cls.label = lab.decode("utf-8", "replace") if isinstance(lab, bytes) else str(lab)
                if scores is not None:
                    cls.score = float(scores[i, j] if scores.ndim == 2 else scores[i])
        return name, result

    def regress(self, signature_name, serialized, timeout_s=None):
        """Returns (signature name, RegressionResult) for serialized tf.Examples."""
        name, sig, out = self._run_examples(signature_name, REGRESS_METHOD, serialized, timeout_s)
        values = out.get("outputs")
        if values is None:
            raise invalid_argument(f"No output tensor named 'outputs' in signature {name}")
        values = np.asarray(values)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1 or values.shape[0] != len(serialized):
            raise invalid_argument(
                f"Expected output Tensor shape to be [batch_size] or [batch_size, 1] but got "
                f"{list(values.shape)}")
        result = regression_pb2.RegressionResult()
        for v in values:
            result.regressions.add().value = float(v)
        return name, result
