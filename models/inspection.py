"""Looking inside trained models: mean gate weight per expert per task, and the tree a
`learning_to_branch` model learned (`branching_tree`).

MMoE, CGC and PLE expose their softmax gates as probes
(`MultiTaskModel.probe_model()`); each gate is a `Gate` layer that knows the
names of the experts it weighs. `mean_gate_weights` averages each task's gate
over a dataset: a task that puts most weight on a few experts (or, in CGC/PLE,
on its own experts rather than the shared ones) shows how much it shares.

Example:
>>> from models.inspection import mean_gate_weights, gate_experts
>>> weights = mean_gate_weights(model, test_ds)                 # doctest: +SKIP
>>> weights                                                     # doctest: +SKIP
{'left': [0.31, 0.22, 0.25, 0.22], 'right': [...], 'same_digit': [...]}
>>> gate_experts(model)["gate_left"]                            # doctest: +SKIP
['expert_0', 'expert_1', 'expert_2', 'expert_3']
"""

import numpy as np
import tensorflow as tf

GATE_PREFIX = "gate_"


def gate_experts(model):
    """{gate probe name: [expert names, in the order of the gate's weights]}."""
    probes = model.probe_model()
    if probes is None:
        return {}
    out = {}
    for name in probes.output_names:
        try:  # the probe model holds layers off the outputs' path too (OMoE's probes)
            layer = probes.get_layer(name)
        except ValueError:
            continue
        if hasattr(layer, "experts"):
            out[name] = list(layer.experts)
    return out


def _batches(data, batch_size):
    """Yields input dicts from a dataset of (inputs, ...) tuples or inputs, or from arrays."""
    if isinstance(data, tf.data.Dataset):
        for element in data:
            yield element[0] if isinstance(element, (tuple, list)) else element
        return
    if isinstance(data, (tuple, list)):  # (inputs, labels, masks) arrays
        data = data[0]
    n = len(next(iter(data.values())))
    for start in range(0, n, batch_size):
        yield {k: v[start:start + batch_size] for k, v in data.items()}


def mean_probe_values(model, data, max_batches=None, batch_size=256):
    """{probe name: mean over examples (np.ndarray, the probe's per-example shape)}.

    Args:
        model: `MultiTaskModel`.
        data: a `tf.data.Dataset` of `(inputs, labels, masks)` batches (or of
            input dicts), or a dict of input arrays (or a tuple starting with one).
        max_batches: int or None. Stop after this many batches.
        batch_size: int. Batch size when `data` holds arrays.
    """
    probes = model.probe_model()
    if probes is None:
        return {}
    call = tf.function(lambda x: probes(x, training=False))
    sums, count = None, 0
    for i, inputs in enumerate(_batches(data, batch_size)):
        if max_batches is not None and i >= max_batches:
            break
        values = {k: np.asarray(v, np.float64) for k, v in call(inputs).items()}
        batch_sums = {k: v.sum(axis=0) for k, v in values.items()}
        sums = batch_sums if sums is None else {k: sums[k] + batch_sums[k] for k in sums}
        count += len(next(iter(values.values())))
    if not count:
        raise ValueError("mean_probe_values: no examples in data")
    return {k: v / count for k, v in sums.items()}


def mean_gate_weights(model, data, max_batches=None, batch_size=256):
    """{task name: [mean gate weight per expert]} over `data`; {} without gates.

    For each task, the gate of its last level (`gate_<task>`); the experts, in
    the same order, are `gate_experts(model)[f"gate_{task}"]`: MMoE
    `expert_<i>`; CGC the task's own experts then the shared ones; PLE the last
    level's. Each list sums to 1. Arguments as in `mean_probe_values`.
    """
    means = mean_probe_values(model, data, max_batches=max_batches, batch_size=batch_size)
    return {t.name: [float(w) for w in means[f"{GATE_PREFIX}{t.name}"]]
            for t in model.tasks if f"{GATE_PREFIX}{t.name}" in means}


def gate_statistics(model, data, max_batches=None, batch_size=256):
    """{task: {"experts": [...], "weights": [mean weight per expert], "entropy": mean
    per-example entropy (nats), "max_entropy": log(experts)}} for each task's last gate;
    {} without gates. Arguments as in `mean_probe_values`."""
    probes = model.probe_model()
    if probes is None:
        return {}
    names = {t.name: f"{GATE_PREFIX}{t.name}" for t in model.tasks
             if f"{GATE_PREFIX}{t.name}" in probes.output_names}
    if not names:
        return {}
    call = tf.function(lambda x: probes(x, training=False))
    sums = {t: 0.0 for t in names}
    entropies = {t: 0.0 for t in names}
    count = 0
    for i, inputs in enumerate(_batches(data, batch_size)):
        if max_batches is not None and i >= max_batches:
            break
        values = call(inputs)
        for task, probe in names.items():
            w = np.asarray(values[probe], np.float64)
            sums[task] = sums[task] + w.sum(axis=0)
            entropies[task] += float(-np.sum(w * np.log(np.clip(w, 1e-12, 1.0))))
        count += len(np.asarray(values[next(iter(names.values()))]))
    if not count:
        raise ValueError("gate_statistics: no examples in data")
    experts = gate_experts(model)
    return {task: {"experts": experts.get(probe, []),
                   "weights": [float(x) for x in sums[task] / count],
                   "entropy": entropies[task] / count,
                   "max_entropy": float(np.log(len(experts.get(probe, [])) or 1))}
            for task, probe in names.items()}


def branching_tree(model):
    """The learned tree of a `learning_to_branch` model (`learned_tree`: each node's and
    task's parent, and the branching probabilities while it searches); None for any other
    architecture."""
    if getattr(model, "architecture", None) != "learning_to_branch":
        return None
    from models.architectures.learning_to_branch import learned_tree
    return learned_tree(model)


def format_gate_weights(model, weights):
    """Readable lines, one per task: `left: expert_0=0.31 expert_1=0.22 ...`."""
    names = gate_experts(model)
    return [f"{task}: " + " ".join(f"{e}={w:.3f}" for e, w in zip(names[f"{GATE_PREFIX}{task}"], ws))
            for task, ws in weights.items()]
