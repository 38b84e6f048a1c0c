"""Export a `MultiTaskModel` as a TensorFlow Serving SavedModel, atomically.

`export_saved_model(model, export_base)` writes `<export_base>/<next version>/`
(first into a hidden non-integer folder that TF Serving ignores, then renamed), with:

- `serving_default` (predict): the raw inputs (e.g. `image` uint8) -> one output
  per task, named after it: probabilities (`[n, C]` multiclass, `[n]` binary,
  `[n, L]` multilabel, `[n]` regression value, in the label's own units) plus
  `<task>_class` (int64 class ids) for multiclass tasks and `<task>_label` (the class
  name, a string) for binary and multiclass tasks;
  a text input's model (token tasks, `token_multiclass`) answers per token:
  `[n, T, C]` probabilities, `[n, T]` `<task>_class` and `<task>_label`, plus `tokens`
  (`[n, T]` strings, the split sentence padded with "") and `sequence_length` (`[n]`),
  where T is the longest sentence of the request;
- `tf_example` (predict): `examples`, serialized `tf.Example`s -> the same outputs (a
  missing feature is imputed as an empty cell would be);
- `classify_<task>` (binary and multiclass tasks, method `tensorflow/serving/classify`)
  and `regress_<task>` (regression tasks, method `tensorflow/serving/regress`),
  as each task's kind says (`task.signature_method`),
  both taking serialized `tf.Example`s as `inputs`, so `:classify` and
  `:regress` work (their outputs are TF Serving's fixed `classes`/`scores` and
  `outputs`: classify already answers with class names; no `<task>_label` there);
  token tasks have neither (one class list or value per example does not fit tags);
- `tasks` (predict): `tf_example`'s answer with each output named
  `<task>.<kind>.<output>`, so that a client reading the model's metadata alone
  (GetModelMetadata, `GET /v1/models/<name>/metadata`) knows which outputs belong to
  which task and its kind (serving/client.py, predict.py);
- `assets.extra/tf_serving_warmup_requests`: PredictionLog records that a server
  replays at load.

Nothing here depends on the architecture: every model exports the same way.

Example:
>>> from models.export import export_saved_model
>>> path = export_saved_model(model, "exported/multi_mnist")  # doctest: +SKIP
"""

import os
import re
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from inputs import InputSpec
from utils.saved_model import set_method_names

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
WARMUP_FILE = "tf_serving_warmup_requests"


def _tf_dtype(spec):
    return tf.string if spec.dtype == "string" else tf.as_dtype(spec.dtype)


def input_signature(specs):
    return {s.name: tf.TensorSpec((None,) + tuple(s.shape), _tf_dtype(s), name=s.name) for s in specs}


def example_feature_spec(specs):
    """How each raw input travels in a tf.Example, as its kind says (images as encoded
    PNG/JPEG bytes, numbers as float_list, categories and sentences as bytes_list, a text
    input given as tokens as one bytes_list entry per token)."""
    return {s.name: s.example_feature() for s in specs}


def parse_examples(serialized, specs):
    """Serialized tf.Examples -> the raw input dict of `serving_default`."""
    parsed = tf.io.parse_example(serialized, example_feature_spec(specs))
    return {s.name: s.from_example(parsed[s.name]) for s in specs}


def task_outputs(model, inputs):
    """Model outputs as served, keyed by task name (+ e.g. `<task>_class`; each task's
    kind says which: `task.serving_outputs`). Auxiliary tasks are not served."""
    outputs = model(inputs, training=False)
    result = {}
    for spec in model.input_specs:  # e.g. the tokens a text answer is per, and how many
        result.update(spec.served_outputs(inputs[spec.name]))
    for task in served_tasks(model):
        result.update(task.serving_outputs(outputs[task.name]))
    return result


def served_tasks(model):
    """The tasks an export serves: every task but the auxiliary ones."""
    return [t for t in model.tasks if not t.auxiliary]


SIGNATURE_METHODS = {"classify": CLASSIFY_METHOD, "regress": REGRESS_METHOD}


def task_signature_name(task):
    """`classify_<task>` / `regress_<task>`, or None when the kind has no such signature."""
    return f"{task.signature_method}_{task.name}" if task.signature_method else None


def tasks_signature(model, serve_examples):
    """The `tasks` signature (see above) around `serve_examples` (`tf_example`'s function)."""
    heads = serve_examples.structured_outputs
    aliases = {}
    for task in served_tasks(model):  # a task's output names, from its outputs for one example
        one = tf.zeros([1 if d is None else d for d in heads[task.name].shape])
        aliases.update({f"{task.name}.{task.kind}.{name}": name
                        for name in task.serving_outputs(one)})

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def tasks(examples):
        outputs = serve_examples(examples=examples)
        return {alias: outputs[name] for alias, name in aliases.items()}
    return tasks.get_concrete_function()


def next_version(export_base):
    versions = [int(d) for d in os.listdir(export_base) if re.fullmatch(r"\d+", d)] \
        if os.path.isdir(export_base) else []
    return max(versions, default=0) + 1


def sample_inputs(specs, n=2, seed=0):
    """Plausible raw inputs for warmup requests and smoke tests (each kind's samples)."""
    rng = np.random.default_rng(seed)
    return {s.name: s.sample(n, rng) for s in specs}


def write_warmup(saved_model_dir, model_name, specs, num_records=4):
    """Writes PredictionLog warmup records for `serving_default`."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    folder = os.path.join(saved_model_dir, "assets.extra")
    os.makedirs(folder, exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(folder, WARMUP_FILE)) as writer:
        for i in range(num_records):
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name="serving_default"))
            for name, value in sample_inputs(specs, n=1, seed=i).items():
                request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())


def export_saved_model(model, export_base, version=None, model_name=None):
    """Exports `model` under `export_base/<version>`; returns the version folder.

    Args:
        model: `MultiTaskModel`.
        export_base: str. The model's base path (what TF Serving's
            `--model_base_path` points at).
        version: int or None. Defaults to one more than the highest existing.
        model_name: str or None. Model name in warmup requests (default: the
            base folder's name).
    """
    specs = tuple(InputSpec.from_config(s) for s in model.input_specs)
    export_base = os.path.abspath(export_base)
    os.makedirs(export_base, exist_ok=True)
    version = int(version or next_version(export_base))
    final = os.path.join(export_base, str(version))
    if os.path.exists(final):
        raise FileExistsError(f"{final} exists; versions are never overwritten")
    model_name = model_name or os.path.basename(export_base)

    module = tf.Module()
    module.model = model
    signatures, methods = serving_signatures(model, specs)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_base)  # not an integer: ignored
    try:
        tf.saved_model.save(module, tmp, signatures=signatures)
        set_method_names(tmp, methods)
        write_warmup(tmp, model_name, specs)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def serving_signatures(model, specs):
    """({signature name: concrete function}, {signature name: TF Serving method}) of an
    export: `serving_default`, `tf_example`, and each served task's classify or regress."""

    @tf.function(input_signature=[input_signature(specs)])
    def serve(inputs):
        return task_outputs(model, inputs)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(examples):
        return task_outputs(model, parse_examples(examples, specs))

    signatures = {"serving_default": serve.get_concrete_function(),
                  "tf_example": serve_examples.get_concrete_function()}
    signatures["tasks"] = tasks_signature(model, signatures["tf_example"])
    methods = {}
    for task in served_tasks(model):
        name = task_signature_name(task)
        if name is None:
            continue

        def classify_or_regress(inputs, task=task):
            outputs = model(parse_examples(inputs, specs), training=False)
            return task.signature_outputs(outputs[task.name])
        fn = tf.function(classify_or_regress,
                         input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        signatures[name] = fn.get_concrete_function()
        methods[name] = SIGNATURE_METHODS[task.signature_method]
    return signatures, methods
