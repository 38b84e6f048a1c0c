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

from models.architectures.arguments import EXPERT_RULES, EXPERT_UNITS, SHARED_ENCODER, TOWER_UNITS
from models.architectures.blocks import dense_stack
from models.architectures.experts import ExpertMixture, Gate, expert_network, selector
from utils.arguments import Arg, arguments


def extraction_network(features, tasks, make_encoder, num_levels, num_shared_experts,
                       num_task_experts, expert_units, shared_encoder, tower_units, arch="cgc"):
    """Stacked extraction levels (PLE); one level without a shared gate is CGC.

    At each level every task gets its own experts and gate (over its experts and
    the shared ones); below the last level a shared gate, over ALL experts of the
    level, makes the input of the next level's shared experts. Level 1 reads the
    features; level l+1's task experts and gate read the task's level-l output.
    """
    check_experts(tasks, num_levels, num_shared_experts, num_task_experts, arch)
    if shared_encoder:
        bottom = gate_input = make_encoder("shared_encoder")(features)
    else:
        bottom, gate_input = features, selector(features)
    task_in = {t.name: bottom for t in tasks}
    inputs = (task_in, dict.fromkeys(task_in, gate_input), bottom, gate_input)
    levels, probes = int(num_levels), {}
    for level in range(1, levels + 1):
        # Level prefixes only when there are several levels, so CGC names stay short.
        pre = "" if levels == 1 else f"level{level}_"
        own_encoder = level == 1 and not shared_encoder

        def experts_of(owner, x, pre=pre, own_encoder=own_encoder):
            count = num_shared_experts if owner == "shared" else num_task_experts
            names = [f"{pre}{owner}_expert_{i}" for i in range(int(count))]
            return names, [expert_network(x, n, make_encoder, expert_units, own_encoder)
                           for n in names]

        outputs, shared, level_probes = extraction_level(
            tasks, inputs, experts_of, suffix="" if level == levels else f"_level{level}")
        probes.update(level_probes)
        inputs = (outputs, outputs, shared, shared)
    towers = {t.name: dense_stack(inputs[0][t.name], tower_units, f"tower_{t.name}")
              for t in tasks}
    return towers, probes


def check_experts(tasks, num_levels, num_shared_experts, num_task_experts, arch="cgc"):
    """ValueError naming the key when the levels or expert counts cannot be built (the
    declarations' ranges and rules say so at load; this guards direct callers), or when a
    task's name is the shared experts' (`shared`), which only the data's tasks show."""
    if int(num_shared_experts) < 0 or int(num_task_experts) < 0 or \
            int(num_shared_experts) + int(num_task_experts) < 1:
        raise ValueError(f"model.args.num_task_experts: {num_task_experts} with "
                         f"num_shared_experts {num_shared_experts} leaves no expert; valid: "
                         "counts >= 0 with num_shared_experts + num_task_experts >= 1")
    if int(num_levels) < 1:
        raise ValueError(f"model.args.num_levels: {num_levels} is out of range; valid: an "
                         "integer >= 1")
    if any(t.name == "shared" for t in tasks):
        others = [t.name for t in tasks if t.name != "shared"]
        raise ValueError(f"model.architecture: {arch} names its shared experts and gates "
                         "'shared', and so does a task of the data; valid: data.tasks without "
                         f"'shared' ({', '.join(others) or 'no other task'}), or another "
                         "architecture")


def extraction_level(tasks, inputs, experts_of, suffix):
    """One extraction level: per task, its experts and a gate over them and the shared ones;
    with a `suffix` (any level but the last), also the shared gate over every expert.

    Args:
        tasks: tuple of `Task`.
        inputs: (task experts' inputs, task gates' inputs, shared experts' input, shared
            gate's input); the first two are dicts by task name.
        experts_of: callable. `experts_of(owner, x)` -> (names, tensors) of the experts
            of a task, or of `shared`, reading `x`.
        suffix: str. Appended to gate and mixture names; "" on the last level.

    Returns:
        (task outputs by name, the shared mixture or None on the last level, gate probes).
    """
    task_in, task_gate_in, shared_in, shared_gate_in = inputs
    shared_names, shared = experts_of("shared", shared_in)
    all_names, all_experts, outputs, probes = [], [], {}, {}  # task experts, then the shared
    for task in tasks:
        names, experts = experts_of(task.name, task_in[task.name])
        all_names, all_experts = all_names + names, all_experts + experts
        gate = Gate(names + shared_names, name=f"gate_{task.name}{suffix}")(
            task_gate_in[task.name])
        outputs[task.name] = ExpertMixture(name=f"mixture_{task.name}{suffix}")(
            [gate] + experts + shared)
        probes[f"gate_{task.name}{suffix}"] = gate
    if not suffix:
        return outputs, None, probes
    gate = Gate(all_names + shared_names, name=f"gate_shared{suffix}")(shared_gate_in)
    mixture = ExpertMixture(name=f"mixture_shared{suffix}")([gate] + all_experts + shared)
    probes[f"gate_shared{suffix}"] = gate
    return outputs, mixture, probes


@arguments(rules={"num_task_experts": "num_shared_experts + num_task_experts >= 1",
                  **EXPERT_RULES},
           num_shared_experts=Arg(int, "experts shared by all tasks; at most 10^7: each is a "
                                       "network of >= 60 KB, so more cannot fit in memory",
                                  range="[0, 10000000]"),
           num_task_experts=Arg(int, "experts of each task; at most 10^7: each is a "
                                     "network of >= 60 KB, so more cannot fit in memory",
                                range="[0, 10000000]"),
           expert_units=EXPERT_UNITS, shared_encoder=SHARED_ENCODER, tower_units=TOWER_UNITS)
def cgc(features, tasks, make_encoder, num_shared_experts=2, num_task_experts=1,
        expert_units=(64,), shared_encoder=False, tower_units=(32,)):
    """CGC: shared and task-specific experts, one gate per task (see the module docstring)."""
    return extraction_network(features, tasks, make_encoder, 1, num_shared_experts,
                              num_task_experts, expert_units, shared_encoder, tower_units)
