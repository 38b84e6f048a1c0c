"""The serving operations other than Predict, independent of protocol: Classify, Regress,
MultiInference, GetModelMetadata and GetModelStatus take and return the
`tensorflow_serving.apis` protos, for REST and gRPC alike. Errors are `ServingError`s with TF
Serving's codes and messages. `info` (a dict, optional) receives the resolved version and
signature, for metrics.

Predict is not here: each protocol takes its steps itself (`ModelManager.resolve`,
`Servable.predict_signature`, then `Servable.start` or `Servable.predict`; see
serving/core/servable.py), so that the core never calls back into a protocol to decode a
request. What they share for it lives on the service: `timeout_s` and `model_executor`.

Example:
    >>> import tempfile, numpy as np
    >>> from tensorflow_serving.apis import get_model_status_pb2
    >>> from serving import protos
    >>> from serving.core.inference import InferenceService
    >>> from serving.core.model_manager import ModelManager
    >>> from serving.testing import write_toy_saved_model
    >>> base = tempfile.mkdtemp(); _ = write_toy_saved_model(base, 7)
    >>> mm = ModelManager(); mm.apply_config(protos.parse_model_server_config(
    ...     f'model_config_list {{ config {{ name: "toy" base_path: "{base}" }} }}'))
    >>> svc = InferenceService(mm)
    >>> req = get_model_status_pb2.GetModelStatusRequest(); req.model_spec.name = "toy"
    >>> svc.status(req).model_version_status[0].version
    7
    >>> svc.close()
"""

import asyncio
import concurrent.futures
import os

from google.protobuf import any_pb2
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, inference_pb2, regression_pb2)

from serving.core.examples import serialized_examples
from serving.core.servable import CLASSIFY_METHOD, REGRESS_METHOD
from serving.errors import invalid_argument

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
        manager: serving.core.model_manager.ModelManager.
        timeout_s: optional float. How long a request may wait for a batched model call.

    Attributes:
        model_executor: where the asynchronous servers run unbatched model calls (as many
            threads as CPUs: TensorFlow releases the GIL while it computes).
        blocking_executor: where they run the other (blocking) operations.
    """

    def __init__(self, manager, timeout_s=None):
        self.manager = manager
        self.timeout_s = timeout_s
        # Threads start on first use; plain attributes keep the request path free of calls.
        self.model_executor = concurrent.futures.ThreadPoolExecutor(
            os.cpu_count() or 1, thread_name_prefix="model")
        self.blocking_executor = concurrent.futures.ThreadPoolExecutor(
            64, thread_name_prefix="blocking")

    async def run_blocking(self, fn, *args):
        """Runs a synchronous operation (metadata, classify, reload...) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.blocking_executor, fn, *args)

    def close(self):
        for ex in (self.model_executor, self.blocking_executor):
            ex.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ classify / regress
    def classify(self, request, info=None):
        return self._on_examples(request, info, "classify", classification_pb2.ClassificationResponse)

    def regress(self, request, info=None):
        return self._on_examples(request, info, "regress", regression_pb2.RegressionResponse)

    def _on_examples(self, request, info, method, response_class):
        """Classify or Regress: the request's tf.Examples through the signature's method."""
        servable = self.manager.resolve(*spec_target(request.model_spec), info=info)
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
        servable = self.manager.resolve(*spec_target(first), info=info)
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
        servable = self.manager.resolve(*spec_target(request.model_spec), info=info)
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

