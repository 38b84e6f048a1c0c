"""`mmoe`: Multi-gate Mixture-of-Experts (Ma et al., KDD 2018).

A set of experts is shared by all tasks; each task has its own softmax gate
that, per example, weighs the experts, and a tower on the weighted sum. Tasks
that conflict can lean on different experts while related tasks share them.

Paper: J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong, E. H. Chi, "Modeling Task
Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts", KDD 2018.

Args (`model.args`):
    num_experts: int. Number of shared experts. Default 4.
    expert_units: list of int. Dense layers of each expert (after its encoder,
        or on the shared encoder's output). Default (64,).
    shared_encoder: bool. False (the paper): each expert has its own encoder on
        the raw features and the gates read the (flattened) features. True: one
        shared encoder, experts are dense stacks on its output and the gates
        read it too -- much cheaper with a CNN encoder. Default False.
    tower_units: list of int. Dense layers of each task tower. Default (32,).

Probes: `gate_<task>`, [batch, num_experts] softmax weights of experts `expert_<i>`.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="mmoe", encoder="mlp", encoder_args={"units": [8]},
...     args={"num_experts": 3, "expert_units": [8], "tower_units": [4]})
>>> sorted(m.probe_model().output_names)
['gate_a', 'gate_b']
"""

from models.architectures.arguments import EXPERT_RULES, EXPERT_UNITS, SHARED_ENCODER, TOWER_UNITS
from models.architectures.blocks import dense_stack
from models.architectures.experts import ExpertMixture, Gate, shared_experts
from utils.arguments import Arg, arguments


@arguments(rules=EXPERT_RULES,
           num_experts=Arg(int, "experts shared by all tasks; at most 10^7: each is a "
                                "network of >= 60 KB, so more cannot fit in memory",
                           range="[1, 10000000]"),
           expert_units=EXPERT_UNITS, shared_encoder=SHARED_ENCODER, tower_units=TOWER_UNITS)
def mmoe(features, tasks, make_encoder, num_experts=4, expert_units=(64,), shared_encoder=False,
         tower_units=(32,)):
    """MMoE: shared experts, one softmax gate per task (see the module docstring)."""
    names, experts, gate_input = shared_experts(features, make_encoder, num_experts,
                                                expert_units, shared_encoder)
    towers, probes = {}, {}
    for task in tasks:
        gate = Gate(names, name=f"gate_{task.name}")(gate_input)
        mixed = ExpertMixture(name=f"mixture_{task.name}")([gate] + experts)
        towers[task.name] = dense_stack(mixed, tower_units, f"tower_{task.name}")
        probes[f"gate_{task.name}"] = gate
    return towers, probes
