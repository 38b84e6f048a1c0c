"""`cgc`: Customized Gate Control (Tang et al., RecSys 2020).

Like MMoE, but the experts are split into shared experts (used by every task)
and task-specific experts (used by one task only). Each task's softmax gate
weighs its own experts plus the shared ones, so a task keeps capacity that the
other tasks cannot pull towards themselves ("seesaw" effect). CGC is the
single-level form of PLE (`ple`), and this file holds the extraction network
both use.

Paper: H. Tang, J. Liu, M. Zhao, X. Gong, "Progressive Layered Extraction (PLE):
A Novel Multi-Task Learning (MTL) Model for Personalized Recommendations",
RecSys 2020.

Args (`model.args`):
    num_shared_experts: int. Experts shared by all tasks. Default 2.
    num_task_experts: int. Experts of each task. Default 1.
    expert_units: list of int. Dense layers of each expert. Default (64,).
    shared_encoder: bool. False: each expert has its own encoder on the raw
        features, gates read the flattened features. True: one shared encoder,
        experts are dense stacks on its output. Default False.
    tower_units: list of int. Dense layers of each task tower. Default (32,).

Probes: `gate_<task>`, [batch, num_task_experts + num_shared_experts] weights of
experts `<task>_expert_<i>` then `shared_expert_<i>`.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> m = models.MultiTaskModel(
...     tasks=[Task("a", "binary").to_config(), Task("b", "regression").to_config()],
...     inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...     architecture="cgc", encoder="mlp", encoder_args={"units": [8]},
...     args={"num_shared_experts": 1, "num_task_experts": 1, "expert_units": [8]})
>>> m.get_layer("gate_a").experts
['a_expert_0', 'shared_expert_0']
"""

from models.architectures.blocks import dense_stack
from models.architectures.experts import ExpertMixture, Gate, expert_network, selector


def extraction_network(features, tasks, make_encoder, num_levels, num_shared_experts,
                       num_task_experts, expert_units, shared_encoder, tower_units):
    """Stacked extraction levels (PLE); one level without a shared gate is CGC.

    At each level every task gets its own experts and gate (over its experts and
    the shared ones); below the last level a shared gate, over ALL experts of the
    level, makes the input of the next level's shared experts. Level 1 reads the
    features; level l+1's task experts and gate read the task's level-l output.
    """
    if int(num_shared_experts) < 0 or int(num_task_experts) < 0 or \
            int(num_shared_experts) + int(num_task_experts) < 1:
        raise ValueError("model.args: need num_shared_experts >= 0, num_task_experts >= 0 and at "
                         f"least one expert; got {num_shared_experts}, {num_task_experts}")
    if int(num_levels) < 1:
        raise ValueError(f"model.args.num_levels must be >= 1; got {num_levels}")
    if any(t.name == "shared" for t in tasks):
        raise ValueError("cgc/ple: a task may not be called 'shared' (it names the shared experts)")
    if shared_encoder:
        bottom = gate_input = make_encoder("shared_encoder")(features)
    else:
        bottom, gate_input = features, selector(features)
    task_in = {t.name: bottom for t in tasks}
    task_gate_in = {t.name: gate_input for t in tasks}
    shared_in, shared_gate_in = bottom, gate_input
    probes = {}
    for level in range(1, int(num_levels) + 1):
        last = level == int(num_levels)
        # Level prefixes only when there are several levels, so CGC names stay short.
        pre = "" if int(num_levels) == 1 else f"level{level}_"
        suffix = "" if last else f"_level{level}"
        own_encoder = level == 1 and not shared_encoder

        def experts_of(owner, x):
            names = [f"{pre}{owner}_expert_{i}" for i in range(
                int(num_shared_experts) if owner == "shared" else int(num_task_experts))]
            return names, [expert_network(x, n, make_encoder, expert_units, own_encoder)
                           for n in names]

        shared_names, shared = experts_of("shared", shared_in)
        all_names, all_experts = [], []  # every task's experts, then the shared ones
        outputs = {}
        for task in tasks:
            names, experts = experts_of(task.name, task_in[task.name])
            all_names, all_experts = all_names + names, all_experts + experts
            gate = Gate(names + shared_names, name=f"gate_{task.name}{suffix}")(
                task_gate_in[task.name])
            outputs[task.name] = ExpertMixture(name=f"mixture_{task.name}{suffix}")(
                [gate] + experts + shared)
            probes[f"gate_{task.name}{suffix}"] = gate
        if not last:
            gate = Gate(all_names + shared_names, name=f"gate_shared{suffix}")(shared_gate_in)
            shared_in = shared_gate_in = ExpertMixture(name=f"mixture_shared{suffix}")(
                [gate] + all_experts + shared)
            probes[f"gate_shared{suffix}"] = gate
        task_in = task_gate_in = outputs
    towers = {t.name: dense_stack(task_in[t.name], tower_units, f"tower_{t.name}") for t in tasks}
    return towers, probes


def cgc(features, tasks, make_encoder, num_shared_experts=2, num_task_experts=1,
        expert_units=(64,), shared_encoder=False, tower_units=(32,)):
    """CGC: shared and task-specific experts, one gate per task (see the module docstring)."""
    return extraction_network(features, tasks, make_encoder, 1, num_shared_experts,
                              num_task_experts, expert_units, shared_encoder, tower_units)
