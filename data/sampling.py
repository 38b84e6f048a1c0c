"""Task sampling: how a training stream draws from several sources of different size.

A mixture (`data.sources`) trains tasks whose labels live in different datasets. Each
epoch draws a fixed number of examples from the sources with probabilities given by a
strategy (`data.sampling.strategy`):

- `proportional`: p_i ∝ n_i, the size of source i (what concatenating the data does);
- `uniform`: p_i = 1 / S, whatever the sizes (small sources repeat often);
- `temperature`: p_i ∝ n_i^(1/T) (T = `temperature`; T = 1 is proportional, T → ∞
  uniform; multilingual NMT and MT-DNN-style task sampling);
- `annealed`: p_i ∝ n_i^α with α = 1 - 0.8 (e - 1) / (E - 1) at epoch e of E, from
  proportional (first epoch) to nearly uniform (last), as Stickland & Murray (ICML 2019,
  "BERT and PALs", §4) anneal it;
- `weights`: p_i ∝ the given weight of each source.

The draws of an epoch are a sequence of source ids fixed by the seed and the epoch
(`draws`), so a resumed run draws what an uninterrupted one would, and the proportions
an epoch realised are counted exactly (`realised`), before any data is read.

Example:
>>> from data.sampling import probabilities
>>> probabilities([8000, 500], "proportional").round(3).tolist()
[0.941, 0.059]
>>> probabilities([8000, 500], "temperature", temperature=2.0).round(3).tolist()
[0.8, 0.2]
>>> probabilities([8000, 500], "annealed", epoch=0, epochs=3).round(3).tolist()
[0.941, 0.059]
>>> draws([0.5, 0.5], 6, seed=0, epoch=0).tolist()
[1, 1, 1, 0, 1, 1]
"""

import numpy as np

from utils.arguments import Arg, Declaration

STRATEGIES = ("proportional", "uniform", "temperature", "annealed", "weights")
# How a step's batch is made: `mixed` draws each example from the sources; `per_source`
# takes each step's whole batch from one drawn source (MT-DNN); `round` takes one batch
# from every source each step (LibMTL's multi-input way).
COMPOSITIONS = ("mixed", "per_source", "round")
# `data.sampling`: checked when the config loads (`training/arguments.py`).
SAMPLING = Declaration({
    "strategy": Arg(str, "how often each source is drawn: proportional to its size, uniform, "
                    "temperature (n^(1/T)), annealed (proportional -> uniform) or weights",
                    choices=STRATEGIES, default="proportional"),
    "temperature": Arg(float, "T of temperature sampling (1: proportional; large: uniform)",
                       range="(0, inf)", default=2.0),
    "weights": Arg(dict, "{source: weight} of weights sampling", item=float, range="[0, inf)",
                   null=True, default=None),
    "batches": Arg(str, "mixed (each example drawn from a source), per_source (each step's "
                   "batch from one source) or round (a batch of every source each step)",
                   choices=COMPOSITIONS, default="mixed"),
    "steps_per_epoch": Arg(int, "steps per epoch; null: as many examples as the sources hold "
                           "together (`round`: divided by the number of sources)",
                           range="[1, inf)", null=True, default=None),
})
# Stickland & Murray's annealing: α falls from 1 to 1 - ANNEAL_DEPTH over training.
ANNEAL_DEPTH = 0.8


def annealed_exponent(epoch, epochs):
    """α at the 0-based `epoch` of `epochs`: 1 at the first, 0.2 at the last."""
    if epochs <= 1:
        return 1.0
    return 1.0 - ANNEAL_DEPTH * epoch / (epochs - 1)


def probabilities(sizes, strategy, temperature=None, weights=None, epoch=0, epochs=1):
    """Each source's probability of being drawn (a float64 array summing to 1).

    Args:
        sizes: sequence of int. Training examples of each source (> 0).
        strategy: str. One of `STRATEGIES`.
        temperature: float. T > 0 of `temperature`.
        weights: sequence of float. One weight >= 0 per source, of `weights`.
        epoch: int. The 0-based epoch (`annealed`).
        epochs: int. How many epochs training runs (`annealed`).
    """
    sizes = np.asarray(sizes, np.float64)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown sampling strategy {strategy!r}; valid: {', '.join(STRATEGIES)}")
    if sizes.size == 0 or np.any(sizes <= 0):
        raise ValueError(f"every source needs training examples; sizes {sizes.tolist()}")
    if strategy == "proportional":
        raw = sizes
    elif strategy == "uniform":
        raw = np.ones_like(sizes)
    elif strategy == "temperature":
        if temperature is None or not temperature > 0:
            raise ValueError(f"temperature sampling needs a temperature > 0, got {temperature!r}")
        raw = sizes ** (1.0 / float(temperature))
    elif strategy == "annealed":
        raw = sizes ** annealed_exponent(epoch, epochs)
    else:
        raw = np.asarray(weights if weights is not None else [], np.float64)
        if raw.shape != sizes.shape or np.any(raw < 0) or not raw.sum() > 0:
            raise ValueError(f"weights: one number >= 0 per source (not all 0) expected, "
                             f"got {weights!r} for {sizes.size} sources")
    return raw / raw.sum()


def draws(probs, count, seed, epoch):
    """`count` source ids drawn with `probs`; the same for the same seed and epoch."""
    rng = np.random.default_rng([int(seed), int(epoch), 0x5A5])
    return rng.choice(len(probs), size=int(count), p=np.asarray(probs, np.float64))


def realised(ids, num_sources):
    """The fraction of draws that went to each source."""
    counts = np.bincount(np.asarray(ids, np.int64), minlength=num_sources)
    return counts / max(int(counts.sum()), 1)


def steps_per_epoch(sizes, batch_size, composition):
    """The default epoch: as many examples as the sources hold together, in batches
    (`round` takes a batch from every source each step, so it takes fewer steps)."""
    per_step = batch_size * (len(sizes) if composition == "round" else 1)
    return max(1, int(np.ceil(float(np.sum(sizes)) / per_step)))
