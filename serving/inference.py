"""The serving operations, independent of protocol: REST and gRPC both call these.

Predict has one path (`start_predict`): each protocol only decodes its request and encodes the
answer; the model is resolved, the inputs checked and the model run here and in the Servable.
It works on numpy arrays (so REST does not pay for a TensorProto round trip);
Classify, Regress, MultiInference, GetModelMetadata and GetModelStatus take and return
the `tensorflow_serving.apis` protos. Errors are `ServingError`s with TF Serving's codes and
messages. `info` (a dict, optional) receives the resolved version and signature, for metrics.

Example:
    >>> import tempfile, numpy as np
    >>> from tensorflow_serving.apis import get_model_status_pb2
    >>> from serving import protos
    >>> from serving.inference import InferenceService
    >>> from serving.model_manager import ModelManager
    >>> from serving.testing import write_toy_saved_model
    >>> base = tempfile.mkdtemp(); _ = write_toy_saved_model(base, 7)
    >>> mm = ModelManager(); mm.apply_config(protos.parse_model_server_config(
    ...     f'model_config_list {{ config {{ name: "toy" base_path: "{base}" }} }}'))
    >>> svc = InferenceService(mm)
    >>> req = get_model_status_pb2.GetModelStatusRequest(); req.model_spec.name = "toy"
    >>> svc.status(req).model_version_status[0].version
    7
    >>> image = lambda dtypes: {"image": np.zeros([1, 28, 28, 1], np.uint8)}
    >>> servable, sig, outputs = svc.predict(("toy", None, None), "", image, ["digit"])
    >>> servable.version, sig, outputs["digit"].shape
    (7, 'serving_default', (1, 10))
"""

import concurrent.futures
import os

from google.protobuf import any_pb2
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, inference_pb2, regression_pb2)

from serving.aio import await_future
from serving.errors import ServingError, invalid_argument
from serving.examples import serialized_examples
from serving.servable import CLASSIFY_METHOD, REGRESS_METHOD, filter_outputs

SIGNATURE_DEF_FIELD = "signature_def"


def spec_target(spec):
    """(name, version or None, label or None) of a ModelSpec proto."""
    version = spec.version.value if spec.HasField("version") else None
    return spec.name, version, (spec.version_label or None)


def fill_spec(out_spec, servable, signature_name=None):
    out_spec.name = servable.name
    out_spec.version.value = servable.version
    if signature_name is not None:
        out_spec.signature_name = signature_name


class InferenceService:
    """Serving operations over a ModelManager.

    Args:
        manager: serving.model_manager.ModelManager.
        timeout_s: optional float. How long a request may wait for a batched model call.
        model_threads: optional int. Threads running unbatched model calls for the asynchronous
            servers (default: the number of CPUs; TensorFlow releases the GIL while it computes).
        blocking_threads: int. Threads running the other (blocking) operations for them.
    """

    def __init__(self, manager, timeout_s=None, model_threads=None, blocking_threads=64):
        self.manager = manager
        self.timeout_s = timeout_s
        self._model_threads = model_threads or os.cpu_count() or 1
        self._blocking_threads = blocking_threads
        self._model_executor = self._blocking_executor = None

    @property
    def model_executor(self):
        if self._model_executor is None:
            self._model_executor = concurrent.futures.ThreadPoolExecutor(
                self._model_threads, thread_name_prefix="model")
        return self._model_executor

    @property
    def blocking_executor(self):
        if self._blocking_executor is None:
            self._blocking_executor = concurrent.futures.ThreadPoolExecutor(
                self._blocking_threads, thread_name_prefix="blocking")
        return self._blocking_executor

    async def run_blocking(self, fn, *args):
        """Runs a synchronous operation (metadata, classify, reload...) off the event loop."""
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(self.blocking_executor, fn, *args)

    def close(self):
        for ex in (self._model_executor, self._blocking_executor):
            if ex is not None:
                ex.shutdown(wait=False, cancel_futures=True)

    def resolve(self, name, version=None, label=None, info=None):
        servable = self.manager.resolve(name, version, label)
        if info is not None:
            info["version"] = servable.version
        return servable

    # ------------------------------------------------------------------ predict
    def start_predict(self, target, signature_name, decode_inputs, output_filter=(), info=None,
                      executor=None):
        """The one Predict path of both protocols: resolves the model once, then
        `Servable.start` looks the signature up, decodes and checks the inputs once and starts
        the model call (batched or not). Returns (servable, signature name, concurrent Future).

        Args:
            target: (name, version or None, label or None), e.g. `spec_target(model_spec)`.
            signature_name: str. '' means serving_default.
            decode_inputs: callable({input name: DataType}) -> {input name: ndarray}; called
                once the signature is known (JSON needs its dtypes, TensorProtos do not).
            output_filter: names of the outputs wanted (empty: all).
            info: optional dict receiving "version" and "signature", for metrics.
            executor: where an unbatched model call runs (None: in the caller).
        """
        servable = self.resolve(*target, info=info)
        sig_name, future = servable.start(signature_name, decode_inputs, output_filter, executor)
        if info is not None:
            info["signature"] = sig_name
        return servable, sig_name, future

    def predict(self, target, signature_name, decode_inputs, output_filter=(), info=None):
        """`start_predict`, waited for in this thread: (servable, signature name, outputs)."""
        servable, sig_name, future = self.start_predict(target, signature_name, decode_inputs,
                                                        output_filter, info)
        try:
            outputs = future.result(self.timeout_s)
        except concurrent.futures.TimeoutError:
            raise ServingError("DEADLINE_EXCEEDED", "Deadline exceeded") from None
        return servable, sig_name, filter_outputs(outputs, output_filter)

    async def predict_async(self, target, signature_name, decode_inputs, output_filter=(),
                            info=None):
        """`start_predict` for the event loop: waits for the batch (or the model thread)
        without blocking it."""
        servable, sig_name, future = self.start_predict(
            target, signature_name, decode_inputs, output_filter, info, self.model_executor)
        outputs = await await_future(future, self.timeout_s)
        return servable, sig_name, filter_outputs(outputs, output_filter)

    # ------------------------------------------------------------------ classify / regress
    def classify(self, request, info=None):
        return self._on_examples(request, info, "classify", classification_pb2.ClassificationResponse)

    def regress(self, request, info=None):
        return self._on_examples(request, info, "regress", regression_pb2.RegressionResponse)

    def _on_examples(self, request, info, method, response_class):
        """Classify or Regress: the request's tf.Examples through the signature's method."""
        servable = self.resolve(*spec_target(request.model_spec), info=info)
        examples = serialized_examples(request.input)
        sig_name, result = getattr(servable, method)(request.model_spec.signature_name, examples,
                                                     self.timeout_s)
        if info is not None:
            info["signature"] = sig_name
        response = response_class(result=result)
        fill_spec(response.model_spec, servable, sig_name)
        return response

    def multi_inference(self, request, info=None):
        if not request.tasks:
            raise invalid_argument("MultiInferenceRequest must contain at least one task")
        first = request.tasks[0].model_spec
        seen = set()
        for task in request.tasks:
            if task.model_spec.name != first.name:
                raise invalid_argument(
                    "All ModelSpecs in a MultiInferenceRequest must access the same model name.")
            if spec_target(task.model_spec)[1:] != spec_target(first)[1:]:
                raise invalid_argument(
                    "ModelSpecs in a MultiInferenceRequest must access the same model version.")
            sig = task.model_spec.signature_name or "serving_default"
            if sig in seen:
                raise invalid_argument(f"Duplicate evaluation of signature: {sig}")
            seen.add(sig)
            if task.method_name not in (CLASSIFY_METHOD, REGRESS_METHOD):
                raise invalid_argument(f"Unsupported signature method_name: {task.method_name}")
        servable = self.resolve(*spec_target(first), info=info)
        examples = serialized_examples(request.input)
        response = inference_pb2.MultiInferenceResponse()
        for task in request.tasks:
            result = response.results.add()
            if task.method_name == CLASSIFY_METHOD:
                sig_name, res = servable.classify(task.model_spec.signature_name, examples,
                                                  self.timeout_s)
                result.classification_result.CopyFrom(res)
            else:
                sig_name, res = servable.regress(task.model_spec.signature_name, examples,
                                                 self.timeout_s)
                result.regression_result.CopyFrom(res)
            fill_spec(result.model_spec, servable, sig_name)
        if info is not None:
            info["signature"] = ",".join(sorted(seen))
        return response

    # ------------------------------------------------------------------ metadata / status
    def metadata(self, request, info=None):
        if not request.HasField("model_spec"):
            raise invalid_argument("Missing ModelSpec")
        if not request.metadata_field:
            raise invalid_argument(
                "GetModelMetadataRequest must specify at least one metadata_field")
        for field in request.metadata_field:
            if field != SIGNATURE_DEF_FIELD:
                raise invalid_argument(f"Metadata field {field} is not supported")
        servable = self.resolve(*spec_target(request.model_spec), info=info)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        fill_spec(response.model_spec, servable)
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        for key, sig in servable.signature_defs.items():
            sig_map.signature_def[key].CopyFrom(sig)
        packed = any_pb2.Any()
        packed.Pack(sig_map)
        response.metadata[SIGNATURE_DEF_FIELD].CopyFrom(packed)
        return response

    def status(self, request, info=None):
        if not request.HasField("model_spec"):
            raise invalid_argument("Missing ModelSpec")
        name, version, label = spec_target(request.model_spec)
        if label:
            version = self.manager.resolve(name, label=label).version
        response = get_model_status_pb2.GetModelStatusResponse()
        for v, state, error in self.manager.version_states(name, version):
            entry = response.model_version_status.add(version=v, state=state)
            entry.status.SetInParent()  # TF Serving always reports a status, OK included
            if error is not None:
                entry.status.error_code = error.tf_error_code
                entry.status.error_message = error.message
        return response

