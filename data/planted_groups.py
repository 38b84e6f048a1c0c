"""`planted_groups`: regression tasks in planted groups, some groups in conflict.

A synthetic dataset where the right task grouping is known, for checking task
grouping (TAG, `training/grouping/`) and Learning to Branch against the truth. All
draws come from `seed`: the world (directions, nonlinearities, which task is in which
group) once per config, the examples per split.

1. x in R^d, every entry from N(0, 1);
2. L orthonormal latent directions u_l, each with a nonlinearity
   phi_l(z) = z + sum_{m=1..M} sin(alpha_lm z + beta_lm), alpha, beta ~ N(0, 1) (the
   form of Ma et al.'s MMoE data, `data/mmoe_synthetic.py`);
3. each group g has a signature S[g] over the latents and a feature
   f_g(x) = sum_l S[g, l] phi_l(u_l . x), scaled to unit variance;
   - groups in conflict come in pairs (0, 1), (2, 3), ... (`conflicts` pairs): both
     read the pair's main latent p with weight 1 and its second latent q with weights
     +c and -c (c = `conflict_weight`): they agree on p and pull the shared q feature
     opposite ways;
   - every other group reads a latent of its own (unrelated to the rest);
4. the tasks (`y0`, `y1`, ..., `tasks_per_group` per group, assigned to the groups by
   a seeded permutation, so a group's tasks are not neighbours by name):
   y_t = s_t f_g(x) + `task_specific` (v_t . x) + N(0, `noise_std`^2), with a scale
   s_t ~ U(0.5, 1.5) and a direction v_t of the task's own (a random unit vector).

Tasks in one group are noisy, rescaled copies of one function plus a little of their
own: they should share a network. The truth is stored with the data:
`info.metadata["groups"]` (the task names of each group, in group order),
`["conflicts"]` (pairs of group indices), `["signatures"]` (S) and `["params"]`;
`world(params)` recomputes it from the parameters.

Input: `x` (d floats). Tasks: `y0` ... (regression). Defaults: 3 groups of 2 tasks,
one conflicting pair, d = 16, one sine per latent, 2,000 / 500 / 500 examples: a
few-epoch MLP run takes seconds. With them, the affinity of a shared-bottom MLP
(units 32, 16; towers 8) trained 4 epochs with Adam at 0.01 chose the planted groups
for 3 networks in 2 of 2 seeds (one sine per latent; with 4 the functions are too
wiggly for 3 epochs at 0.001 and the heads do not settle).

Example:
>>> import data
>>> spec = data.get_dataset("planted_groups", train_size=256)
>>> [t.name for t in spec.tasks], spec.inputs[0].shape
(['y0', 'y1', 'y2', 'y3', 'y4', 'y5'], (16,))
>>> from data.planted_groups import PlantedParams, world
>>> world(PlantedParams())["groups"]
[['y4', 'y5'], ['y1', 'y2'], ['y0', 'y3']]
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from data.dataset_spec import DatasetSpec
from data.offline_builder import OfflineBuilder, ParamsConfig
from inputs import InputSpec
from tasks import Task
from utils.arguments import Arg, arguments

REFERENCE_SIZE = 4096  # examples the group features are scaled to unit variance on


@dataclasses.dataclass(frozen=True)
class PlantedParams:
    num_groups: int = 3
    tasks_per_group: int = 2
    conflicts: int = 1
    conflict_weight: float = 1.0
    task_specific: float = 0.3
    noise_std: float = 0.1
    dim: int = 16
    num_sines: int = 1
    train_size: int = 2000
    validation_size: int = 500
    test_size: int = 500
    seed: int = 0

    @property
    def num_tasks(self):
        return self.num_groups * self.tasks_per_group

    @property
    def num_latents(self):
        return self.num_groups  # a conflicting pair shares two, every other group has one


def task_names(params):
    return [f"y{i}" for i in range(params.num_tasks)]


def signatures(params):
    """S [groups, latents]: conflicting pairs (p: 1, q: +c / -c), then one latent each."""
    s = np.zeros((params.num_groups, params.num_latents))
    for pair in range(params.conflicts):
        p, q = 2 * pair, 2 * pair + 1
        s[2 * pair, [p, q]] = 1.0, params.conflict_weight
        s[2 * pair + 1, [p, q]] = 1.0, -params.conflict_weight
    for g in range(2 * params.conflicts, params.num_groups):
        s[g, g] = 1.0
    return s


def world(params):
    """Everything drawn once per config: directions `u` [d, L], sine parameters `alpha`,
    `beta` [L, M], signatures, the task of each group (`members`: indices; `groups`:
    names), task scales, task directions `v` [d, T] and each group's feature scale."""
    rng = np.random.default_rng([params.seed, 0])
    u, _ = np.linalg.qr(rng.normal(size=(params.dim, params.num_latents)))
    alpha = rng.normal(size=(params.num_latents, params.num_sines))
    beta = rng.normal(size=(params.num_latents, params.num_sines))
    order = rng.permutation(params.num_tasks)
    k = params.tasks_per_group
    members = [sorted(order[g * k:(g + 1) * k].tolist()) for g in range(params.num_groups)]
    names = task_names(params)
    v = rng.normal(size=(params.dim, params.num_tasks))
    out = {"u": u, "alpha": alpha, "beta": beta, "signatures": signatures(params),
           "members": members, "groups": [[names[i] for i in m] for m in members],
           "scales": rng.uniform(0.5, 1.5, size=params.num_tasks),
           "v": v / np.linalg.norm(v, axis=0), "feature_std": np.ones(params.num_groups)}
    reference = group_features(out, rng.normal(size=(REFERENCE_SIZE, params.dim)))
    out["feature_std"] = reference.std(axis=0)
    return out


def group_features(w, x):
    """f_g(x) [N, groups], each scaled by the world's `feature_std`."""
    z = x @ w["u"]  # [N, L]
    phi = z + np.sin(z[:, :, None] * w["alpha"][None] + w["beta"][None]).sum(axis=2)
    return phi @ w["signatures"].T / w["feature_std"]


def generate_split(params, split_index):
    """x [N, d] float32 and the labels {task: [N] float32} of one split, deterministic."""
    w = world(params)
    count = (params.train_size, params.validation_size, params.test_size)[split_index]
    rng = np.random.default_rng([params.seed, 1 + split_index])
    x = rng.normal(size=(count, params.dim))
    features = group_features(w, x)
    labels = {}
    for g, members in enumerate(w["members"]):
        for t in members:
            y = (w["scales"][t] * features[:, g] + params.task_specific * (x @ w["v"][:, t])
                 + rng.normal(0.0, params.noise_std, size=count))
            labels[f"y{t}"] = y.astype(np.float32)
    return x.astype(np.float32), {n: labels[n] for n in task_names(params)}


def config_name(params: PlantedParams) -> str:
    """`default` for the default parameters, else every parameter spelled out."""
    if params == PlantedParams():
        return "default"
    q = params
    return (f"g{q.num_groups}x{q.tasks_per_group}-c{q.conflicts}w{q.conflict_weight:g}"
            f"-s{q.task_specific:g}-e{q.noise_std:g}-d{q.dim}-m{q.num_sines}"
            f"-n{q.train_size}.{q.validation_size}.{q.test_size}-seed{q.seed}")


def make_config(params: PlantedParams) -> ParamsConfig:
    return ParamsConfig(name=config_name(params), params=params,
                        description=f"{params.num_groups} planted groups of "
                                    f"{params.tasks_per_group} tasks.")


class PlantedGroups(OfflineBuilder):
    """Regression tasks in planted groups (see `data.planted_groups`)."""

    VERSION = tfds.core.Version("1.0.0")
    BUILDER_CONFIGS = [make_config(PlantedParams())]

    def _info(self):
        p = self.builder_config.params
        w = world(p)
        features = {"x": tfds.features.Tensor(shape=(p.dim,), dtype=np.float32),
                    **{n: tfds.features.Tensor(shape=(), dtype=np.float32)
                       for n in task_names(p)}}
        return self.generated_info(
            __doc__, features, tasks_of(p),
            citation="Synthetic; latent functions after Ma et al., KDD 2018.",
            groups=w["groups"], signatures=w["signatures"].tolist(),
            conflicts=[[2 * i, 2 * i + 1] for i in range(p.conflicts)])

    def _split_generators(self, dl_manager):
        return {split: self._generate_examples(*generate_split(self.builder_config.params, i))
                for i, split in enumerate(("train", "validation", "test"))}

    def _generate_examples(self, x, labels):
        for i in range(len(x)):
            yield i, {"x": x[i], **{n: y[i] for n, y in labels.items()}}


def tasks_of(params):
    return tuple(Task(n, "regression") for n in task_names(params))


def _check(params):
    for key, least in (("num_groups", 1), ("tasks_per_group", 1), ("dim", 1),
                       ("train_size", 1), ("conflicts", 0), ("num_sines", 0)):
        if getattr(params, key) < least:
            raise ValueError(f"data.options.{key}: must be at least {least}; got "
                             f"{getattr(params, key)}")
    if 2 * params.conflicts > params.num_groups:
        raise ValueError(f"data.options.conflicts: {params.conflicts} pairs need "
                         f"{2 * params.conflicts} groups; num_groups is {params.num_groups}")
    if params.dim < params.num_latents:
        raise ValueError(f"data.options.dim: must be at least the {params.num_latents} "
                         f"latent directions; got {params.dim}")


@arguments(
    num_groups=Arg(int, "planted groups", range="[1, 32]"),
    tasks_per_group=Arg(int, "tasks in each group", range="[1, 32]"),
    conflicts=Arg(int, "pairs of groups in conflict (groups 0 and 1, 2 and 3, ...)",
                  range="[0, 16]"),
    conflict_weight=Arg(float, "weight +c / -c of a conflicting pair's second latent",
                        range="[0, inf)"),
    task_specific=Arg(float, "weight of each task's own linear direction", range="[0, inf)"),
    noise_std=Arg(float, "standard deviation of the label noise", range="[0, inf)"),
    dim=Arg(int, "input features (at least one per group: the latent directions)",
            range="[1, 4096]"),
    num_sines=Arg(int, "sine terms of each latent's nonlinearity", range="[0, 64]"),
    train_size=Arg(int, "examples in the train split", range="[1, inf)"),
    validation_size=Arg(int, "examples in the validation split", range="[1, inf)"),
    test_size=Arg(int, "examples in the test split", range="[1, inf)"),
    seed=Arg(int, "seeds the world (groups, directions) and the examples",
             range="[0, 2147483647]"),
    rules={"conflicts": "2 * conflicts <= num_groups", "dim": "dim >= num_groups"})
def planted_groups(num_groups: int = 3, tasks_per_group: int = 2, conflicts: int = 1,
                   conflict_weight: float = 1.0, task_specific: float = 0.3,
                   noise_std: float = 0.1, dim: int = 16, num_sines: int = 1,
                   train_size: int = 2000, validation_size: int = 500, test_size: int = 500,
                   seed: int = 0):
    """Spec of `planted_groups` (options as in the module docstring)."""
    params = PlantedParams(
        num_groups=num_groups, tasks_per_group=tasks_per_group, conflicts=conflicts,
        conflict_weight=float(conflict_weight), task_specific=float(task_specific),
        noise_std=float(noise_std), dim=dim, num_sines=num_sines, train_size=train_size,
        validation_size=validation_size, test_size=test_size, seed=seed)
    _check(params)
    config = make_config(params)
    return DatasetSpec(
        name="planted_groups", **PlantedGroups.tfds_source(config),
        tasks=tasks_of(params),
        inputs=(InputSpec("x", "numeric", shape=(params.dim,), dtype="float32", mean=0.0,
                          variance=1.0),),
        description="Regression tasks in planted groups, some in conflict (the truth in "
                    "info.metadata['groups']).")
