"""`hierarchical`: tasks supervised at different depths of one shared trunk.

Lower-level (simpler) tasks attach to lower trunk layers and higher-level tasks
to deeper ones; each task's tower output also feeds the next trunk level, so a
higher task sees both the shared features and what the lower tasks extracted
(the "shortcut" of Hashimoto et al.). On `multi_mnist`, recognising each digit
(level 1) feeds deciding whether they are the same (level 2).

By default one shared encoder is the bottom and each level is a dense layer. With
`level_encoders`, each level IS an encoder (a fresh one of `model.encoder`, e.g. a
one-layer BiLSTM) and there is no separate bottom: tasks sit at encoder depths, as in
Søgaard & Goldberg's tagger (POS supervised on the first BiLSTM layer, chunking on the
second, which reads the first layer's states and, with a tower, POS's tower too).
Dense levels on token states would act per token; encoder levels keep the context.

Papers: A. Søgaard, Y. Goldberg, "Deep multi-task learning with low level tasks
supervised at lower layers", ACL 2016; K. Hashimoto, C. Xiong, Y. Tsuruoka,
R. Socher, "A Joint Many-Task Model", EMNLP 2017.

Args (`model.args`):
    task_levels: dict task name -> int >= 1. The trunk level each task attaches
        to; every task must be given. Default: the tasks' order (first task at
        level 1, second at level 2, ...).
    level_units: int or list of int. Width of each trunk level's dense layer
        (a list gives one per level). Default 64.
    tower_units: list of int. Dense layers of each task tower; a task's last
        tower layer is what the next level reads. Default (32,).
    level_encoders: bool. Each level is an encoder of its own (see above) instead of
        a dense layer over one bottom encoder; `level_units` is then unused. Default
        False.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="hierarchical", encoder="mlp", encoder_args={"units": [8]},
...     args={"task_levels": {"a": 1, "b": 2}, "level_units": 8, "tower_units": [4]})
>>> m.get_layer("level2_input").output.shape  # level 1's trunk (8) + task a's tower (4)
(None, 12)
"""

from typing import Optional, Sequence, Union

import keras

from models.architectures.arguments import TOWER_UNITS
from models.architectures.blocks import dense_stack
from utils.arguments import Arg, arguments


def resolve_levels(tasks, task_levels):
    """{task name: level}, checked: every task once, levels >= 1; ValueError naming the key."""
    names = [t.name for t in tasks]
    if not task_levels:
        return {n: i + 1 for i, n in enumerate(names)}
    levels = {str(k): int(v) for k, v in dict(task_levels).items()}
    unknown = sorted(set(levels) - set(names))
    if unknown:
        raise ValueError(f"model.args.task_levels.{unknown[0]}: not one of the tasks; valid: "
                         f"{', '.join(names)} (a level for each)")
    missing = [n for n in names if n not in levels]
    if missing:
        raise ValueError(f"model.args.task_levels: no level for task(s) {missing}; valid: a "
                         f"level >= 1 for each of {', '.join(names)}")
    low = min(levels, key=levels.get)
    if levels[low] < 1:  # the declaration says so at load; this guards direct callers
        raise ValueError(f"model.args.task_levels.{low}: {levels[low]} is out of range; valid: "
                         "an integer >= 1 (levels start at 1)")
    return levels


@arguments(task_levels=Arg(dict, "task -> the trunk level it attaches to (every task); null: "
                                 "the tasks' order; at most 10^7: every level up to the "
                                 "highest is a layer of >= 60 KB, so more cannot fit in memory",
                           item=int, range="[1, 10000000]", null=True),
           level_units=Arg((int, list),
                           "width of each trunk level's dense layer (a list: one per level)",
                           item=int, range="[1, inf)"),
           tower_units=TOWER_UNITS,
           level_encoders=Arg(bool, "each level an encoder of its own instead of a dense layer"))
def hierarchical(features, tasks, make_encoder, task_levels: Optional[dict] = None,
                 level_units: Union[int, Sequence[int]] = 64, tower_units=(32,),
                 level_encoders: bool = False):
    """Hierarchical: tasks at configurable depths, lower tasks feeding higher ones."""
    levels = resolve_levels(tasks, task_levels)
    num_levels = max(levels.values())
    widths = list(level_units) if isinstance(level_units, (list, tuple)) else \
        [level_units] * num_levels
    if len(widths) != num_levels and not level_encoders:
        raise ValueError(f"model.args.level_units: {len(widths)} widths for {num_levels} "
                         f"levels; valid: an integer, or a list of {num_levels} (one per level)")
    h = features if level_encoders else make_encoder("shared_encoder")(features)
    towers, below = {}, []
    for level in range(1, num_levels + 1):
        x = keras.layers.Concatenate(name=f"level{level}_input")([h] + below) if below else h
        if level_encoders:
            h = make_encoder(f"level{level}", input_shape=tuple(x.shape[1:]))(x)
        else:
            h = keras.layers.Dense(int(widths[level - 1]), activation="relu",
                                   name=f"level{level}")(x)
        below = []
        for task in tasks:
            if levels[task.name] == level:
                towers[task.name] = dense_stack(h, tower_units, f"tower_{task.name}")
                if tower_units:  # without a tower the task reads h, which goes up anyway
                    below.append(towers[task.name])
    return towers, {}
