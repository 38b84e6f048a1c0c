"""tf.Example requests: `Input` protos (from REST, gRPC or a warmup file) -> the serialized
examples a classify/regress signature takes.

Example:
    >>> from tensorflow.core.example import example_pb2
    >>> from tensorflow_serving.apis import input_pb2
    >>> from serving.core.examples import serialized_examples
    >>> request_input = input_pb2.Input()
    >>> _ = request_input.example_list.examples.add(), request_input.example_list.examples.add()
    >>> len(serialized_examples(request_input))
    2
"""

from serving.errors import invalid_argument


def serialized_examples(request_input):
    """`Input` proto -> list of serialized tf.Example, context merged into each example."""
    kind = request_input.WhichOneof("kind")
    if kind == "example_list":
        out = [e.SerializeToString() for e in request_input.example_list.examples]
    elif kind == "example_list_with_context":
        # Concatenated serializations parse as a merge: the example's own features win.
        ctx = request_input.example_list_with_context.context.SerializeToString()
        out = [ctx + e.SerializeToString()
               for e in request_input.example_list_with_context.examples]
    else:
        out = []
    if not out:
        raise invalid_argument("Input is empty.")
    return out
