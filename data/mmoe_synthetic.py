"""`mmoe_synthetic`: two regression tasks with a controlled correlation (Ma et al., KDD 2018).

The synthetic data of "Modeling Task Relationships in Multi-task Learning with
Multi-gate Mixture-of-Experts" (§3.2), where the task correlation `p` is a
parameter:

1. draw two orthogonal unit vectors u1, u2 in R^d;
2. w1 = c·u1 and w2 = c·(p·u1 + sqrt(1 - p²)·u2), so cos(w1, w2) = p;
3. draw x in R^d with every entry from N(0, 1);
4. y_k = w_kᵀx + Σ_{i=1..m} sin(α_i·w_kᵀx + β_i) + ε_k, ε_k ~ N(0, 0.01), k = 1, 2.

The sine terms make the label (Pearson) correlation differ a little from `p`,
which is why the paper controls `p` rather than the label correlation; the
correlation actually measured on each split is stored in
`info.metadata["label_correlation"]`. u1, u2, α, β are drawn once per config
from `seed` (α_i, β_i ~ N(0, sine_std²), sine_std = 1 by default: the paper
calls them given shape parameters without fixing them; `sines: reference` uses the
values of Google Research's generator of this data instead, α_i = i and
β_i = (i-1)², i = 1..m, whose defaults are also c = 1, m = 10), shared by all splits;
the splits get independent x and noise. Defaults: d = 100, c = 1, m = 10,
10,000 / 1,000 / 1,000 examples; N(0, 0.01) is read as variance 0.01 (noise
s.d. `noise_std` = 0.1; Google Research's generator reads it as s.d. 0.01). With these defaults the measured label correlation is lower than p
(about 0.00 / 0.09 / 0.68 / 0.99 for p = 0 / 0.5 / 0.9 / 1) but grows with it;
a small `sine_std` (e.g. 0.1) makes the labels nearly linear in x and their
correlation close to p.

Input: `x` (numeric vector of d floats, standard normal by construction).
Tasks: `y1`, `y2` (regression).

Example:
>>> import data
>>> spec = data.get_dataset("mmoe_synthetic", correlation=0.5, train_size=256)
>>> [t.name for t in spec.tasks], spec.inputs[0].shape
(['y1', 'y2'], (100,))
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from data.offline_builder import OfflineBuilder, ParamsConfig, SPLITS
from data.dataset_spec import DatasetSpec
from data.options import GENERATOR_SEED, TEST_SIZE, TRAIN_SIZE, VALIDATION_SIZE
from inputs import InputSpec
from tasks import Task
from utils.arguments import Arg, arguments

TASKS = (Task("y1", "regression"), Task("y2", "regression"))
NOISE_STD = 0.1  # variance 0.01


@dataclasses.dataclass(frozen=True)
class MmoeParams:
    correlation: float = 0.5
    dim: int = 100
    scale: float = 1.0
    num_sines: int = 10
    sine_std: float = 1.0
    sines: str = "random"
    noise_std: float = 0.1
    train_size: int = 10000
    validation_size: int = 1000
    test_size: int = 1000
    seed: int = 0


def task_weights(params, rng):
    """w1, w2 with cos(w1, w2) = correlation, and the sine parameters α, β."""
    # QR of a Gaussian matrix gives orthonormal columns: two orthogonal unit vectors.
    q, _ = np.linalg.qr(rng.normal(size=(params.dim, 2)))
    u1, u2 = q[:, 0], q[:, 1]
    p, c = params.correlation, params.scale
    w1 = c * u1
    w2 = c * (p * u1 + np.sqrt(1.0 - p * p) * u2)
    if params.sines == "reference":
        # Google Research's generator of this data (the paper gives no values): 1..m, (i-1)^2.
        alpha = np.arange(1, params.num_sines + 1, dtype=np.float64)
        beta = np.arange(params.num_sines, dtype=np.float64) ** 2
    else:
        alpha = rng.normal(0.0, params.sine_std, size=params.num_sines)
        beta = rng.normal(0.0, params.sine_std, size=params.num_sines)
    return w1, w2, alpha, beta


def make_labels(x, w, alpha, beta, rng, noise_std=NOISE_STD):
    """y = wᵀx + Σ sin(α_i wᵀx + β_i) + ε for a batch x [N, d]."""
    z = x @ w
    return z + np.sin(np.outer(z, alpha) + beta).sum(axis=1) + rng.normal(0, noise_std, len(z))


def generate_split(params, split_index):
    """x [N, d] float32 and y1, y2 [N] float32 of one split, deterministic."""
    w1, w2, alpha, beta = task_weights(params, np.random.default_rng([params.seed, 0]))
    count = (params.train_size, params.validation_size, params.test_size)[split_index]
    rng = np.random.default_rng([params.seed, 1 + split_index])
    x = rng.normal(size=(count, params.dim))
    y1 = make_labels(x, w1, alpha, beta, rng, params.noise_std)
    y2 = make_labels(x, w2, alpha, beta, rng, params.noise_std)
    return x.astype(np.float32), y1.astype(np.float32), y2.astype(np.float32)


def config_name(params: MmoeParams) -> str:
    """`p0.5` for the default sizes, else every parameter spelled out."""
    if dataclasses.replace(params, correlation=MmoeParams.correlation) == MmoeParams():
        return f"p{params.correlation:g}"
    q = params
    sines = f"a{q.sine_std:g}" if q.sines == "random" else "aref"
    noise = "" if q.noise_std == NOISE_STD else f"-e{q.noise_std:g}"
    return (f"p{q.correlation:g}-d{q.dim}-c{q.scale:g}-m{q.num_sines}-{sines}{noise}"
            f"-n{q.train_size}.{q.validation_size}.{q.test_size}-seed{q.seed}")


def make_config(params: MmoeParams) -> ParamsConfig:
    """A `mmoe_synthetic` configuration; `params.correlation` is the task correlation p."""
    return ParamsConfig(name=config_name(params), params=params,
                      description=f"Task correlation p = {params.correlation:g}.")


class MmoeSynthetic(OfflineBuilder):
    """Two synthetic regression tasks with task correlation p (see `data.mmoe_synthetic`)."""

    VERSION = tfds.core.Version("1.0.0")
    BUILDER_CONFIGS = [make_config(MmoeParams(correlation=p)) for p in (0.5, 0.0, 0.9, 1.0)]

    def _info(self):
        p = self.builder_config.params
        features = {"x": tfds.features.Tensor(shape=(p.dim,), dtype=np.float32),
                    "y1": tfds.features.Tensor(shape=(), dtype=np.float32),
                    "y2": tfds.features.Tensor(shape=(), dtype=np.float32)}
        return self.generated_info(__doc__, features, TASKS,
                                   citation="Ma et al., Modeling Task Relationships in Multi-task "
                                            "Learning with Multi-gate Mixture-of-Experts, KDD "
                                            "2018.")

    def _split_generators(self, dl_manager):
        splits = {}
        self.info.metadata["label_correlation"] = {}
        for i, split in enumerate(SPLITS):
            x, y1, y2 = generate_split(self.builder_config.params, i)
            self.info.metadata["label_correlation"][split] = (
                float(np.corrcoef(y1, y2)[0, 1]) if len(y1) > 1 else float("nan"))
            splits[split] = self._generate_examples(x, y1, y2)
        return splits

    def _generate_examples(self, x, y1, y2):
        for i in range(len(x)):
            yield i, {"x": x[i], "y1": y1[i], "y2": y2[i]}


@arguments(correlation=Arg(float, "the cosine of the two tasks' weight vectors", range="[-1, 1]"),
           dim=Arg(int, "input features; null: 100", range="[2, inf)", null=True),
           scale=Arg(float, "scale of the weight vectors; null: 1", range="(0, inf)", null=True),
           num_sines=Arg(int, "sine terms of each task; null: 10", range="[0, inf)", null=True),
           sine_std=Arg(float, "standard deviation of the sines' parameters; null: 1",
                        range="[0, inf)", null=True),
           sines=Arg(str, "random (learnable) or reference (the paper's) sine terms; null: random",
                     choices=("random", "reference"), null=True),
           noise_std=Arg(float, "label noise; null: 0.1", range="[0, inf)", null=True),
           train_size=TRAIN_SIZE, validation_size=VALIDATION_SIZE, test_size=TEST_SIZE,
           seed=GENERATOR_SEED)
def mmoe_synthetic(correlation: float = 0.5, dim: int = None, scale: float = None,
                   num_sines: int = None, sine_std: float = None, sines: str = None,
                   noise_std: float = None, train_size: int = None,
                   validation_size: int = None, test_size: int = None, seed: int = None):
    """Spec of `mmoe_synthetic` with task correlation `correlation` in [-1, 1]."""
    if not -1.0 <= float(correlation) <= 1.0:
        raise ValueError(f"data.options.correlation: must be in [-1, 1]; got {correlation}")
    if sines not in (None, "random", "reference"):
        raise ValueError(f"data.options.sines: unknown value {sines!r}; valid values: random, "
                         "reference")
    overrides = {k: v for k, v in dict(dim=dim, scale=scale, num_sines=num_sines, sine_std=sine_std,
                                       sines=sines, noise_std=noise_std, train_size=train_size,
                                       validation_size=validation_size, test_size=test_size,
                                       seed=seed).items() if v is not None}
    params = MmoeParams(correlation=float(correlation), **overrides)
    if params.dim < 2:
        raise ValueError(f"data.options.dim: must be at least 2; got {params.dim}")
    x = InputSpec("x", "numeric", shape=(params.dim,), dtype="float32", mean=0.0, variance=1.0)
    config = make_config(params)
    return DatasetSpec(name="mmoe_synthetic", **MmoeSynthetic.tfds_source(config),
                       tasks=TASKS, inputs=(x,),
                       description="Synthetic two-task regression with task correlation p "
                                   "(Ma et al. 2018).")
