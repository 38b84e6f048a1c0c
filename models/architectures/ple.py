"""`ple`: Progressive Layered Extraction (Tang et al., RecSys 2020).

Stacks several CGC extraction levels. At every level but the last, a shared
gate over ALL experts of the level (every task's and the shared ones) builds the
input of the next level's shared experts, while each task's gated output feeds
that task's experts and gate at the next level. Deeper levels thus separate
shared from task-specific information progressively.

Paper: H. Tang, J. Liu, M. Zhao, X. Gong, "Progressive Layered Extraction (PLE):
A Novel Multi-Task Learning (MTL) Model for Personalized Recommendations",
RecSys 2020.

Args (`model.args`):
    num_levels: int. Extraction levels (1 = CGC). Default 2.
    num_shared_experts: int. Shared experts per level. Default 2.
    num_task_experts: int. Experts of each task per level. Default 1.
    expert_units: list of int. Dense layers of each expert; experts above level
        1 are dense stacks, so this must not be empty. Default (64,).
    shared_encoder: bool. False: each level-1 expert has its own encoder on the
        raw features. True: one shared encoder under all experts. Default False.
    tower_units: list of int. Dense layers of each task tower. Default (32,).

Probes: the last level's task gates `gate_<task>` (as in `cgc`), and below it
`gate_<task>_level<l>` and the shared gates `gate_shared_level<l>`. Experts are
named `level<l>_<task>_expert_<i>` and `level<l>_shared_expert_<i>`.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="ple", encoder="mlp", encoder_args={"units": [8]},
...     args={"num_levels": 2, "expert_units": [8], "tower_units": [4]})
>>> sorted(m.probe_model().output_names)
['gate_a', 'gate_a_level1', 'gate_b', 'gate_b_level1', 'gate_shared_level1']
"""

from models.architectures.arguments import TOWER_UNITS
from models.architectures.cgc import extraction_network
from utils.arguments import Arg, arguments


@arguments(rules={"num_task_experts": "num_shared_experts + num_task_experts >= 1",
                  "expert_units": "len(expert_units) >= 1 or (num_levels == 1 and not "
                                  "shared_encoder)"},
           num_levels=Arg(int, "extraction levels (1 = CGC); at most 10^7: each holds networks of "
                                "experts of >= 60 KB, so more cannot fit in memory",
                      range="[1, 10000000]"),
           num_shared_experts=Arg(int, "shared experts per level; at most 10^7: each is a "
                                       "network of >= 60 KB, so more cannot fit in memory",
                                  range="[0, 10000000]"),
           num_task_experts=Arg(int, "experts of each task per level; at most 10^7: each is a "
                                     "network of >= 60 KB, so more cannot fit in memory",
                                range="[0, 10000000]"),
           expert_units=Arg(list,
                            "dense layers of each expert; experts above level 1 are dense stacks",
                            item=int, range="[1, inf)"),
           shared_encoder=Arg(bool,
                              "one shared encoder under all experts (true), or an encoder per "
                              "level-1 expert (false)"),
           tower_units=TOWER_UNITS)
def ple(features, tasks, make_encoder, num_levels=2, num_shared_experts=2, num_task_experts=1,
        expert_units=(64,), shared_encoder=False, tower_units=(32,)):
    """PLE: stacked CGC levels with shared gates between them (see the module docstring)."""
    return extraction_network(features, tasks, make_encoder, num_levels, num_shared_experts,
                              num_task_experts, expert_units, shared_encoder, tower_units,
                              arch="ple")
