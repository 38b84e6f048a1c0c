"""Which parts of a multi-task model are shared: found from its functional graph.

Gradient balancing and GradNorm (`training/weighting/`) need each task's
gradient on what the tasks share. This module finds it without any naming
convention, by walking the Keras functional graph back from each task's output:

- an operation (layer) is *shared* when two or more task outputs depend on it;
- the *shared parameters* are the trainable variables of shared layers;
- the *shared representation* is every tensor that a shared layer produces and a
  task-specific layer consumes (the frontier where tasks branch off), keeping only
  tensors with trainable shared parameters behind them. For `shared_bottom` that
  is the encoder's output; for MMoE the experts' outputs.

A model can override the analysis with a hook: a method or attribute
`shared_layer_names` (an iterable of layer names) declares the shared layers; the
representation is then those layers' outputs that feed a layer not in the list.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> from training.sharing import find_shared
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("x", "numeric", shape=(8,)).to_config()],
...     architecture="shared_bottom", encoder="mlp", encoder_args={"units": [16]})
>>> shared = find_shared(m)
>>> shared.layer_names, [tuple(t.shape) for t in shared.representation]
(['shared_encoder'], [(None, 16)])
"""

import dataclasses
from typing import List

import keras


@dataclasses.dataclass
class SharedStructure:
    """What the tasks of a model share.

    Attributes:
        layer_names: list of str. Shared layers that hold trainable variables.
        variables: list of variables. Their trainable variables (the shared parameters).
        representation: list of KerasTensor. The frontier tensors (see module doc).
    """

    layer_names: List[str]
    variables: list
    representation: list


def _producer(tensor):
    """(operation, node) that produced a KerasTensor of a functional graph.

    The one place that reads Keras internals: a KerasTensor's `_keras_history`
    and a layer's `_inbound_nodes` are how Keras itself walks a functional graph,
    and no public API exposes the producing node."""
    op, node_index, _ = tensor._keras_history
    return op, op._inbound_nodes[node_index]


def _task_outputs(model):
    struct = model.output
    if isinstance(struct, dict):
        return struct
    return dict(zip(model.output_names, keras.tree.flatten(struct)))


def _walk(model):
    """Per node id: its node, the set of tasks that depend on it, and its consumers."""
    info = {}  # id(node) -> {"node", "op", "tasks", "consumers"}
    for task, out in _task_outputs(model).items():
        stack = [(out, None)]
        while stack:
            tensor, consumer = stack.pop()
            op, node = _producer(tensor)
            entry = info.setdefault(id(node), {"node": node, "op": op, "tasks": set(),
                                               "consumers": set()})
            if consumer is not None:
                entry["consumers"].add(consumer)
            if task in entry["tasks"]:
                continue
            entry["tasks"].add(task)
            for t in node.input_tensors:
                stack.append((t, id(node)))
    return info


def _trainable_weights(op):
    """A layer's trainable weights; none for a bare operation (the `not_equal` that an
    embedding's padding mask is computed with in a functional graph)."""
    return getattr(op, "trainable_weights", None) or []


def _has_trainable_upstream(entry, info, memo):
    key = id(entry["node"])
    if key not in memo:
        memo[key] = False  # guards cycles (there are none in a functional graph)
        own = bool(_trainable_weights(entry["op"]))
        parents = [info[id(_producer(t)[1])] for t in entry["node"].input_tensors
                   if id(_producer(t)[1]) in info]
        memo[key] = own or any(_has_trainable_upstream(p, info, memo) for p in parents)
    return memo[key]


def find_shared(model):
    """Analyses `model` (a functional multi-output Keras model); returns `SharedStructure`.

    Raises ValueError when the model has fewer than two tasks or nothing shared
    with trainable parameters.
    """
    info = _walk(model)
    hook = getattr(model, "shared_layer_names", None)
    if callable(hook):
        hook = hook()
    if hook is not None:
        names = set(hook)
        shared = {k for k, e in info.items() if e["op"].name in names}
    else:
        shared = {k for k, e in info.items() if len(e["tasks"]) > 1}
    memo = {}
    representation, seen = [], set()
    for key in shared:
        entry = info[key]
        if not entry["consumers"] - shared:
            continue
        if not _has_trainable_upstream(entry, info, memo):
            continue
        for t in entry["node"].output_tensors:
            if id(t) not in seen:
                seen.add(id(t))
                representation.append(t)
    layers, variables, var_ids = [], [], set()
    for key in shared:
        op = info[key]["op"]
        if _trainable_weights(op) and op.name not in layers:
            layers.append(op.name)
            for v in _trainable_weights(op):
                if id(v) not in var_ids:
                    var_ids.add(id(v))
                    variables.append(v)
    if not variables or not representation:
        raise ValueError(
            f"model {model.name!r}: found no shared trainable layers between its tasks, so "
            "gradient balancing has nothing to balance (use a loss weighting method, or declare "
            "the shared layers with a `shared_layer_names` attribute on the model).")
    # Stable order: the model's own variable order and layer order.
    order = {id(v): i for i, v in enumerate(model.trainable_variables)}
    variables.sort(key=lambda v: order.get(id(v), len(order)))
    layer_order = {layer.name: i for i, layer in enumerate(model.layers)}
    layers.sort(key=lambda n: layer_order.get(n, len(layer_order)))
    representation.sort(key=lambda t: t.name)
    return SharedStructure(layers, variables, representation)
