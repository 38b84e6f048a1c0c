"""`omoe`: One-gate Mixture-of-Experts, the baseline of the MMoE paper (Ma et al., KDD 2018).

Shared experts as in `mmoe`, but ONE softmax gate, shared by every task, weighs
them; each task has its own tower on the same mixture. The MMoE paper uses it to
show what the per-task gates add (§3.3, Fig. 3: "OMoE").

Paper: J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong, E. H. Chi, "Modeling Task
Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts", KDD 2018.

Args (`model.args`): as `mmoe`:
    num_experts: int. Number of shared experts. Default 4.
    expert_units: list of int. Dense layers of each expert. Default (64,).
    shared_encoder: bool. One shared encoder under the experts (True) or one encoder
        per expert on the raw features (False, the paper). Default False.
    tower_units: list of int. Dense layers of each task tower. Default (32,).

Probes: `gate_<task>` for every task: the one gate's weights (the same for all
tasks), so gate diagnostics read it like MMoE's.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "regression").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="omoe", encoder="mlp", encoder_args={"units": [8]},
...     args={"num_experts": 3, "expert_units": [], "tower_units": [4]})
>>> m.get_layer("gate").units, sorted(m.probe_model().output_names)
(3, ['gate_a', 'gate_b'])
"""

from models.architectures.arguments import EXPERT_RULES, EXPERT_UNITS, SHARED_ENCODER, TOWER_UNITS
from models.architectures.blocks import dense_stack
from models.architectures.experts import ExpertMixture, Gate, GateProbe, shared_experts
from utils.arguments import Arg, arguments


@arguments(rules=EXPERT_RULES,
           num_experts=Arg(int, "experts shared by all tasks (one gate for all); at most 10^7: "
                                "each is a network of >= 60 KB, so more cannot fit in memory",
                           range="[1, 10000000]"),
           expert_units=EXPERT_UNITS, shared_encoder=SHARED_ENCODER, tower_units=TOWER_UNITS)
def omoe(features, tasks, make_encoder, num_experts=4, expert_units=(64,), shared_encoder=False,
         tower_units=(32,)):
    """OMoE: shared experts, one softmax gate for all tasks (see the module docstring)."""
    names, experts, gate_input = shared_experts(features, make_encoder, num_experts,
                                                expert_units, shared_encoder)
    gate = Gate(names, name="gate")(gate_input)
    mixed = ExpertMixture(name="mixture")([gate] + experts)
    towers = {t.name: dense_stack(mixed, tower_units, f"tower_{t.name}") for t in tasks}
    probes = {f"gate_{t.name}": GateProbe(names, name=f"gate_{t.name}")(gate) for t in tasks}
    return towers, probes
