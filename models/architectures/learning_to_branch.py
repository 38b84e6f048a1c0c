"""`learning_to_branch`: a tree of shared layers whose branching is learned (Guo et al., 2020).

The encoder's stages (each pooling block and dense layer of `cnn`/`mlp`, each layer of
`bilstm`; other encoders are one stage) are the tree's layers. Layer l has
`branches[l]` nodes, each a copy of stage l with its own weights; every node of layer
0 reads the features. Every node of a deeper layer, and every task (whose tower and
head follow), has one parent in the layer above, chosen by a learned categorical
distribution over that layer's nodes: logits theta [children, parents] per layer (a
`BranchMix` layer `branching_<l>`, `branching_tasks` for the tasks).

Search (the paper's method): while the layer's step counter is below `search_steps`,
each training forward pass draws Gumbel-softmax weights
`w = softmax((theta + g) / tau)`, g ~ Gumbel(0, 1) (one draw per batch), and a child
reads `sum_p w[child, p] * parent_p`; gradients reach theta and every node. The
temperature falls geometrically from `temperature` to `min_temperature` over the
search. Without the draw (inference, and training after the search) each child reads
only its most probable parent, `argmax theta`: the tree is then FIXED, theta gets no
gradient, and further training trains the chosen tree. Validation, `predict` and any
export answer with the argmax tree at every point.

The fixed tree as an ordinary network: `learned_tree(model)` gives each node's and
task's parent (and the probabilities, for a report to draw); `fixed_tree_model(model)`
builds the same architecture with `model.args.tree` set, which wires each node to its
parent directly and leaves out the nodes no task descends from, and copies the trained
weights: the same answers, fewer layers, no mixing. Save it (`.keras`, the tree is in
its config) and export it like any model; train it from scratch with the same
`model.args.tree` to retrain the chosen architecture.

Paper: P. Guo, C.-Y. Lee, D. Ulbricht, "Learning to Branch for Multi-Task Learning",
ICML 2020. Here: one Gumbel draw per batch, zero-initialised logits (a uniform prior;
argmax ties go to the first parent, so an untrained tree is a shared bottom), the
weights' optimizer for theta (`lr_multiplier` scales its rate), and a step-counted
search inside the layer (so any trainer runs it); the paper's temperature schedule and
search length are not reproduced.

Args (`model.args`):
    branches: list of int. Nodes per layer (one entry per encoder stage). Default: 1,
        2, 4, ... capped at the number of tasks.
    tower_units: list of int. Dense layers of each task tower. Default (64,).
    search_steps: int. Training steps of the search; then the tree is fixed. Default 500.
    temperature: float. Gumbel-softmax temperature at the start of the search. Default 5.
    min_temperature: float. Temperature at its end. Default 0.5.
    lr_multiplier: float. The branching logits' effective learning rate relative to the
        weights' (done by scaling the parameter, as `cross_stitch` does): at the weights'
        rate the logits move slowly. Default 1.0.
    tree: dict or None. A fixed tree, as `learned_tree` returns it (`layers`: per layer
        from 1, each node's parent; `tasks`: task -> parent in the last layer). Default
        None (search).

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task(n, "binary").to_config() for n in ("a", "b", "c")],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="learning_to_branch", encoder="mlp", encoder_args={"units": [8, 8]},
...     args={"branches": [1, 3], "tower_units": [4]})
>>> from models.architectures.learning_to_branch import fixed_tree_model, learned_tree
>>> {k: v for k, v in learned_tree(m).items() if k != "probabilities"}
{'layers': [[0, 0, 0]], 'tasks': {'a': 0, 'b': 0, 'c': 0}}
>>> fixed_tree_model(m).count_params() < m.count_params()   # untrained: one path
True
"""

import numbers
from typing import Optional, Sequence

import keras
import numpy as np
from keras import ops

from models.architectures.arguments import TOWER_UNITS
from models.architectures.blocks import dense_stack
from models.encoders import encoder_stages
from utils.arguments import Arg, arguments


@keras.saving.register_keras_serializable(package="mtl_zoo")
class BranchMix(keras.layers.Layer):
    """Each of `children` outputs is one of the P same-shaped inputs (its parent), chosen
    by learned logits [children, P]: Gumbel-softmax mixtures while searching (training,
    step < `search_steps`), the most probable parent otherwise.

    Args:
        children: int. The nodes (or tasks) of the next layer.
        search_steps: int. Training calls that search; the layer counts them.
        temperature: float. Gumbel-softmax temperature at step 0.
        min_temperature: float. Temperature at the end of the search.
        lr_multiplier: float. logits = lr_multiplier * the stored variable, so a gradient
            step moves them `lr_multiplier` times further (Adam) than the weights.
        seed: int or None. Seed of the Gumbel draws.
    """

    def __init__(self, children, search_steps=500, temperature=5.0, min_temperature=0.5,
                 lr_multiplier=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.children = int(children)
        self.search_steps = int(search_steps)
        self.temperature = float(temperature)
        self.min_temperature = float(min_temperature)
        self.lr_multiplier = float(lr_multiplier)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Choosing keeps positions: token states keep their padding mask (text encoders).
        self.supports_masking = True

    def build(self, input_shapes):
        # One parent is no choice: its logits stay put (and need no gradient).
        self.logits_param = self.add_weight(
            shape=(self.children, len(input_shapes)), name="logits", initializer="zeros",
            trainable=len(input_shapes) > 1)
        # Counted on the first replica only: every replica takes the same steps.
        self.step = self.add_weight(shape=(), name="step", initializer="zeros",
                                    trainable=False, aggregation="only_first_replica")

    @property
    def logits(self):
        """theta [children, parents]."""
        return self.logits_param * self.lr_multiplier

    def set_logits(self, values):
        self.logits_param.assign(np.asarray(values, "float32") / self.lr_multiplier)

    def hard_weights(self):
        """One-hot [children, P]: each child's most probable parent."""
        return ops.one_hot(ops.argmax(self.logits, axis=-1), self.logits.shape[-1])

    def current_temperature(self):
        progress = ops.minimum(self.step / max(self.search_steps, 1), 1.0)
        return self.temperature * (self.min_temperature / self.temperature) ** progress

    def call(self, inputs, training=False):
        if len(inputs) == 1:  # one parent: every child reads it, nothing to search
            return [inputs[0]] * self.children
        weights = self.hard_weights()
        if training:
            u = keras.random.uniform(self.logits.shape, minval=1e-10, maxval=1.0,
                                     seed=self.seed_generator)
            gumbel = -ops.log(-ops.log(u))
            soft = ops.softmax((self.logits + gumbel) / self.current_temperature(), axis=-1)
            weights = ops.where(self.step < self.search_steps, soft, weights)
            self.step.assign_add(1.0)
        stacked = ops.stack(inputs, axis=0)  # [P, batch, ...]
        mixed = ops.tensordot(ops.cast(weights, stacked.dtype), stacked, axes=1)
        return [mixed[c] for c in range(self.children)]

    def compute_output_shape(self, input_shapes):
        return [tuple(input_shapes[0])] * self.children

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        return [mask[0]] * self.children  # every node reads the same tokens

    def get_config(self):
        return {**super().get_config(), "children": self.children,
                "search_steps": self.search_steps, "temperature": self.temperature,
                "min_temperature": self.min_temperature, "lr_multiplier": self.lr_multiplier,
                "seed": self.seed}


def resolve_branches(branches, num_stages, num_tasks):
    """Nodes per layer, checked against the encoder's stages."""
    if branches is None:
        return [min(num_tasks, 2 ** level) for level in range(num_stages)]
    branches = [int(b) for b in branches]
    if len(branches) != num_stages or min(branches) < 1:
        raise ValueError(f"model.args.branches: {branches} does not give one positive node "
                         f"count per encoder stage ({num_stages} stages); valid: a list of "
                         f"{num_stages} integers >= 1, or null")
    return branches


def check_tree(tree, branches, tasks):
    """(parents per layer from 1, {task: parent}) of a fixed tree, checked."""
    names = [t.name for t in tasks]
    try:  # a tree from a config may hold anything: what does not read as one is not one
        layers = [[_index(p) for p in layer] for layer in tree.get("layers", [])]
        given = {str(k): _index(v) for k, v in dict(tree.get("tasks", {})).items()}
    except (TypeError, ValueError):
        layers, given = None, {}
    shape_ok = layers is not None and [len(layer) for layer in layers] == branches[1:] and all(
        0 <= p < branches[level] for level, layer in enumerate(layers) for p in layer)
    if not shape_ok or sorted(given) != sorted(names) or not all(
            0 <= p < branches[-1] for p in given.values()):
        raise ValueError(f"model.args.tree: {tree} does not fit branches {branches} and the "
                         f"tasks; valid: {{layers: parents of each node of layers 1.. (sizes "
                         f"{branches[1:]}), tasks: a parent in 0..{branches[-1] - 1} for each of "
                         f"{names}}}, or null")
    return layers, given


def _index(value):
    """A node's index as given: an integer (not 1.7, not true)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"not a node index: {value!r}")
    return int(value)


def needed_nodes(layers, task_parents, branches):
    """Per layer, the nodes some task descends from (the rest are left out)."""
    needed = [set() for _ in branches]
    needed[-1] = set(task_parents.values())
    for level in range(len(branches) - 1, 0, -1):
        needed[level - 1] = {layers[level - 1][node] for node in needed[level]}
    return needed


def _search_graph(features, stages, branches, names, mix_args):
    """Every node, children reading Gumbel-softmax mixtures of their layer above."""
    outputs = [_run(stages[j][0], features) for j in range(branches[0])]
    for level in range(1, len(branches)):
        inputs = BranchMix(branches[level], name=f"branching_{level}", **mix_args)(outputs)
        outputs = [_run(stages[j][level], x) for j, x in enumerate(inputs)]
    return dict(zip(names, BranchMix(len(names), name="branching_tasks", **mix_args)(outputs)))


def _fixed_graph(features, stages, branches, layers, task_parents):
    """Only the nodes tasks descend from, each reading its parent directly."""
    needed = needed_nodes(layers, task_parents, branches)
    outputs = {j: _run(stages[j][0], features) for j in sorted(needed[0])}
    for level in range(1, len(branches)):
        outputs = {j: _run(stages[j][level], outputs[layers[level - 1][j]])
                   for j in sorted(needed[level])}
    return {name: outputs[parent] for name, parent in task_parents.items()}


def _run(layers, x):
    for layer in layers:
        x = layer(x)
    return x


@arguments(
    rules={"min_temperature": "min_temperature <= temperature"},  # the search cools down
    branches=Arg(list, "nodes per tree layer, one entry per encoder stage; null: 1, 2, 4, ... "
                       "capped at the number of tasks; at most 10^7 nodes a layer: each is a "
                       "network of >= 60 KB, so more cannot fit in memory", item=int,
                 range="[1, 10000000]", null=True),
    tower_units=TOWER_UNITS,
    search_steps=Arg(int, "training steps of the Gumbel-softmax search; then the tree is fixed",
                     range="[0, inf)"),
    temperature=Arg(float, "Gumbel-softmax temperature at the start of the search",
                    range="(0, inf)"),
    min_temperature=Arg(float, "temperature at the end of the search", range="(0, inf)"),
    lr_multiplier=Arg(float, "the branching logits' learning rate relative to the weights'",
                      range="(0, inf)"),
    tree=Arg(dict, "a fixed tree as learned_tree gives it ({layers: parents per layer from 1, "
                   "tasks: task -> parent}); null: search it", null=True))
def learning_to_branch(features, tasks, make_encoder, branches: Optional[Sequence[int]] = None,
                       tower_units=(64,), search_steps=500, temperature=5.0,
                       min_temperature=0.5, lr_multiplier=1.0, tree: Optional[dict] = None):
    """Learning to Branch: a learned tree of encoder stages (see the module docstring)."""
    # Node j of layer l is stage l of encoder j (`node<j>`): names the fixed tree shares.
    stages = [encoder_stages(make_encoder("node0"))]
    branches = resolve_branches(branches, len(stages[0]), len(tasks))
    stages += [encoder_stages(make_encoder(f"node{j}")) for j in range(1, max(branches))]
    names = [t.name for t in tasks]
    if tree is None:
        mix_args = {"search_steps": search_steps, "temperature": temperature,
                    "min_temperature": min_temperature, "lr_multiplier": lr_multiplier}
        trunks = _search_graph(features, stages, branches, names, mix_args)
    else:
        layers, task_parents = check_tree(tree, branches, tasks)
        trunks = _fixed_graph(features, stages, branches, layers, task_parents)
    return {n: dense_stack(trunks[n], tower_units, f"tower_{n}") for n in names}, {}


def learned_tree(model):
    """The tree of a `learning_to_branch` model: `layers` (per layer from 1, each node's
    parent), `tasks` (task -> parent in the last layer) and, while it is a searched
    model, `probabilities` (per branching layer, softmax(theta) [children, parents])."""
    if model.args.get("tree") is not None:
        return {"layers": [list(layer) for layer in model.args["tree"]["layers"]],
                "tasks": dict(model.args["tree"]["tasks"])}
    mixes = {layer.name: layer for layer in model.layers if isinstance(layer, BranchMix)}
    if "branching_tasks" not in mixes:
        raise ValueError(f"model {model.name!r} is not a learning_to_branch model")
    levels = sorted(int(n.split("_")[1]) for n in mixes if n != "branching_tasks")
    logits = {n: np.asarray(m.logits) for n, m in mixes.items()}  # theta, scaled
    task_parents = logits["branching_tasks"].argmax(axis=-1)
    return {"layers": [logits[f"branching_{lv}"].argmax(axis=-1).tolist() for lv in levels],
            "tasks": {t.name: int(p) for t, p in zip(model.tasks, task_parents)},
            "probabilities": {n: np.round(_softmax(v), 6).tolist() for n, v in logits.items()}}


def _softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def fixed_tree_model(model):
    """A `learning_to_branch` model with the learned tree fixed in its config, holding the
    trained weights of the nodes it keeps: the same answers as `model` at inference."""
    tree = learned_tree(model)
    config = model.get_config()
    config["args"] = {**config["args"], "tree": {"layers": tree["layers"],
                                                 "tasks": tree["tasks"]}}
    fixed = type(model).from_config(config)  # a MultiTaskModel (not imported: no circle)
    for layer in fixed.layers:
        if layer.weights:
            source = model.get_layer(layer.name)
            layer.set_weights(source.get_weights())
    return fixed
