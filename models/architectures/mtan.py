"""`mtan`: Multi-Task Attention Network (Liu, Johns & Davison, CVPR 2019).

One shared network (the global feature pool) and, per task, a soft-attention module at
every stage of it. At stage j the shared network computes u_j (the output of the
stage's first layer with weights) and p_j (the output of its last one); task i's
module computes a mask from u_j and what the task attended to at the stage before,

    a_ij = h_ij(g_ij([u_j ; f_j(a^_i,j-1)]))      (stage 1: h_i1(g_i1(u_1))),
    a^_ij = a_ij * p_j                              (element-wise),

with g a 1x1 convolution (ReLU) and h a 1x1 convolution (sigmoid) on a feature map, or
dense layers on a vector stage, and f_j a 3x3 convolution (dense on a vector stage,
ReLU) shared by the tasks, which brings a^_i,j-1 to stage j's width. a^_ij then takes
the stage's remaining layers (pooling, dropout; per-task copies without weights), and
the last stage's a^_i feeds task i's tower. The masks select, per task, which shared
features it uses, while the shared network is trained by every task.

Stages are those of the encoder (`models.encoders.encoder_stages`): each
[conv, conv, pool] block and the dense layer of `cnn`, each dense layer of `mlp`; a
`keras_application` backbone is one stage (one mask on its output). Differences from
the reference code (lorenmt/mtan): no batch normalisation in the attention modules
(the zoo's encoders have none), and f_j runs after stage j-1's pooling rather than
before it (the same layers at a quarter of the cost).

Paper: S. Liu, E. Johns, A. J. Davison, "End-to-End Multi-Task Learning with
Attention", CVPR 2019.

Args (`model.args`):
    tower_units: list of int. Dense layers of each task tower. Default (64,).

Probes: none.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("image", "image", shape=(8, 8, 1), dtype="uint8").to_config()],
...     architecture="mtan", encoder="cnn", encoder_args={"filters": [4], "units": 8},
...     args={"tower_units": [4]})
>>> [(l.name, l.output.shape) for l in m.layers if l.name.startswith("mtan_a_mask")]
[('mtan_a_mask0', (None, 8, 8, 4)), ('mtan_a_mask1', (None, 8))]
"""

import keras

from models.architectures.arguments import TOWER_UNITS
from models.architectures.blocks import dense_stack
from models.encoders import encoder_stages
from utils.arguments import arguments


# What `model.encoder` may be under mtan (its build errors name the key and these).
VALID = "valid: an encoder whose stages output feature maps or vectors (cnn, mlp, " \
        "keras_application)"


def _conv_or_dense(rank, units, kernel, activation, name):
    """A `kernel` x `kernel` convolution on a feature map (rank 4), a dense layer on a vector."""
    if rank == 4:
        return keras.layers.Conv2D(int(units), kernel, padding="same", activation=activation,
                                   name=name)
    if rank == 2:
        return keras.layers.Dense(int(units), activation=activation, name=name)
    raise ValueError(f"model.encoder: mtan masks feature maps [H, W, C] or vectors, and an "
                     f"encoder stage outputs rank-{rank} tensors (token sequences?); {VALID}")


def _copy(layer, name):
    """A new layer like `layer` (one without weights: pooling, flatten, dropout)."""
    return type(layer).from_config({**layer.get_config(), "name": name})


@arguments(tower_units=TOWER_UNITS)
def mtan(features, tasks, make_encoder, tower_units=(64,)):
    """MTAN: per-task attention masks on every stage of one shared encoder (see the
    module docstring)."""
    stages = encoder_stages(make_encoder("shared_encoder"))
    f_layers = {}
    x, attended = features, {}
    for j, stage in enumerate(stages):
        weighted = [i for i, layer in enumerate(stage) if layer.weights]
        if not weighted:
            raise ValueError(f"model.encoder: mtan computes its masks from a layer with "
                             f"weights in every encoder stage, and stage {j} has none; {VALID}")
        first, last = weighted[0], weighted[-1]
        for i, layer in enumerate(stage):
            x = layer(x)
            if i == first:
                u = x
            if i == last:
                p = x
        rank, width, out_width = len(u.shape), u.shape[-1], p.shape[-1]
        for task in tasks:
            pre = f"mtan_{task.name}"
            if j == 0:
                mask_in = u
            else:
                t = attended[task.name]
                for layer in stage[:first]:  # e.g. mlp's flatten before its first dense
                    t = _copy(layer, f"{pre}_{layer.name}")(t)
                if j not in f_layers:  # f_j is shared by the tasks (the reference's too)
                    f_layers[j] = _conv_or_dense(rank, width, 3, "relu", f"mtan_f{j}")
                mask_in = keras.layers.Concatenate(name=f"{pre}_in{j}")([u, f_layers[j](t)])
            g = _conv_or_dense(rank, width, 1, "relu", f"{pre}_g{j}")(mask_in)
            a = _conv_or_dense(rank, out_width, 1, "sigmoid", f"{pre}_h{j}")(g)
            t = keras.layers.Multiply(name=f"{pre}_mask{j}")([a, p])
            for layer in stage[last + 1:]:
                t = _copy(layer, f"{pre}_{layer.name}")(t)
            attended[task.name] = t
    return {t.name: dense_stack(attended[t.name], tower_units, f"tower_{t.name}")
            for t in tasks}, {}
