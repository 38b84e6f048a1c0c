"""tf.Example requests of REST classify/regress bodies: their JSON -> `Input` protos (which
`serving.core.examples.serialized_examples` turns into what a signature takes).

The typing rules are TF Serving's: a JSON integer is an int64 feature, a float a float feature,
a string or `{"b64": ...}` a bytes feature; one feature holds one kind.

Example:
    >>> from serving.core.examples import serialized_examples
    >>> from serving.rest_v1.examples_json import examples_from_json
    >>> request_input = examples_from_json({"context": {"city": "paris"},
    ...                                     "examples": [{"age": 30}, {"age": 50.5}]})
    >>> len(serialized_examples(request_input))
    2
"""

import base64
import binascii
import json

from tensorflow.core.example import example_pb2
from tensorflow_serving.apis import input_pb2

from serving.errors import invalid_argument
from serving.rest_v1.json_codec import is_b64, json_type


def _add_feature_value(name, value, feature):
    kind = feature.WhichOneof("kind")

    def need(k):
        if kind not in (None, k):
            raise invalid_argument(
                f"Unexpected element type in feature: {name} expecting type: "
                f"{ {'bytes_list': 'bytes', 'float_list': 'float', 'int64_list': 'int64'}[kind] }")
        return k

    if value is None or isinstance(value, list) or (isinstance(value, dict) and not is_b64(value)):
        raise invalid_argument(
            f"Feature: {name} has element with unexpected JSON type: {json_type(value)}")
    if isinstance(value, bool):
        need("int64_list")
        feature.int64_list.value.append(int(value))
    elif isinstance(value, int):
        need("int64_list")
        if not -(2**63) <= value < 2**63:
            raise invalid_argument(f"Feature: {name} has uint64 element. Only int64 is supported.")
        feature.int64_list.value.append(value)
    elif isinstance(value, float):
        need("float_list")
        feature.float_list.value.append(value)
    elif isinstance(value, str):
        need("bytes_list")
        feature.bytes_list.value.append(value.encode("utf-8"))
    else:  # b64 object
        need("bytes_list")
        try:
            feature.bytes_list.value.append(base64.b64decode(value["b64"], validate=True))
        except (binascii.Error, ValueError):
            raise invalid_argument("Unable to base64 decode") from None


def example_from_json(obj):
    """A JSON object {feature: value|list} -> tf.train.Example (TF Serving's typing rules)."""
    if not isinstance(obj, dict):
        raise invalid_argument(f"Example must be JSON object but got JSON {json_type(obj)}")
    example = example_pb2.Example()
    for name, content in obj.items():
        feature = example.features.feature[name]
        for v in (content if isinstance(content, list) else [content]):
            _add_feature_value(name, v, feature)
    return example


def examples_from_json(body):
    """A REST classify/regress body -> tensorflow_serving `Input` proto."""
    request_input = input_pb2.Input()
    examples = body.get("examples")
    if "examples" not in body:
        raise invalid_argument(
            f"JSON Value: {json.dumps(body)[:200]} When method is classify, key 'examples' is "
            "expected and was not found")
    if not isinstance(examples, list):
        raise invalid_argument(
            f"JSON Value: {json.dumps(body)[:200]} Expecting 'examples' value to be an list/array")
    if not examples:
        raise invalid_argument(
            f"JSON Value: {json.dumps(body)[:200]} 'examples' value is an empty array")
    if "context" in body:
        target = request_input.example_list_with_context
        target.context.CopyFrom(example_from_json(body["context"]))
    else:
        target = request_input.example_list
    for obj in examples:
        target.examples.add().CopyFrom(example_from_json(obj))
    return request_input

