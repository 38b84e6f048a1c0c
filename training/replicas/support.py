"""What can train as replicas in one graph, and why the rest cannot: each check returns
None (supported) or one line saying what does not fit, which the caller prints as it
falls back to one run per process.

One graph gives each replica exactly the update its own run would take when:
- the weighting is a fixed linear combination of the task losses (`equal`, `static`):
  the others look at losses or gradients across tasks, or learn weights, and are not
  written for a replica axis;
- the optimizer's update is element-wise and per parameter (`adam`, `adamw`, `sgd`,
  `rmsprop`) with no `clipnorm` (it would clip the norm over all replicas);
- the model draws no random numbers in training and keeps no state that training
  updates (no dropout, noise or batch normalisation), adds no losses of its own (`add_loss`),
  and every input has a fixed shape (no variable-length text);
- no diagnostics (gradient cosines, affinity, gate weights) are asked for;
- the run passes over one dataset (`data.name`): a mixture (`data.sources`) or a fixed
  epoch length (`data.sampling.steps_per_epoch`) draws its batches by sampling, which the
  replayed shuffle does not reproduce;
- the runs differ only in their seeds, and their splits have the same sizes;
- every op of the model has a vectorised form (`tf.vectorized_map` without its slow
  fallback); a model that has none fails when the step is traced.

Example:
>>> from training.config import load_config
>>> from training.replicas.support import config_unsupported
>>> config_unsupported(load_config("configs/mmoe_synthetic.yaml",
...     ["train.diagnostics_per_epoch=0", "train.affinity_per_epoch=0",
...      "train.gate_diagnostics=false"])) is None
True
>>> config_unsupported(load_config("configs/mmoe_synthetic.yaml", ["train.weighting=pcgrad"]))
"weighting 'pcgrad' (one graph takes: equal, static)"
"""

WEIGHTINGS = ("equal", "static")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
# Layers that draw random numbers or keep state that training updates.
# Layers whose op `tf.vectorized_map` cannot batch over a per-replica kernel.
CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
                "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
                "SeparableConv2D")
STATEFUL_LAYERS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                   "GaussianNoise", "GaussianDropout", "AlphaDropout", "BatchNormalization",
                   "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation")


def config_unsupported(config):
    """Why a run of `config` cannot train in one graph with others (None: it can)."""
    tc = config.train
    if config.data.sources or (config.data.sampling or {}).get("steps_per_epoch"):
        return ("data.sources / data.sampling.steps_per_epoch (one graph takes one dataset "
                "passed over whole epochs)")
    if tc.weighting not in WEIGHTINGS:
        return f"weighting {tc.weighting!r} (one graph takes: {', '.join(WEIGHTINGS)})"
    if tc.optimizer not in OPTIMIZERS:
        return f"optimizer {tc.optimizer!r} (one graph takes: {', '.join(OPTIMIZERS)})"
    if (tc.optimizer_args or {}).get("clipnorm"):
        return "train.optimizer_args.clipnorm (it would clip over every replica at once)"
    if tc.diagnostics_per_epoch or tc.affinity_per_epoch or tc.gate_diagnostics:
        return ("diagnostics (set train.diagnostics_per_epoch=0, train.affinity_per_epoch=0, "
                "train.gate_diagnostics=false)")
    return None


def model_unsupported(model):
    """Why `model` cannot be stacked (None: it can), from its layers and inputs (losses it
    adds when called are found when the step is traced: `StackedModel`)."""
    for layer in _layers(model):
        reason = layer_unsupported(layer)
        if reason:
            return reason
    for spec in model.input_specs:
        if any(d is None for d in spec.shape or ()):
            return f"input {spec.name!r} has a variable shape {spec.shape}"
    return None


def layer_unsupported(layer):
    """Why one layer cannot be stacked (None: it can).

    >>> import keras
    >>> layer_unsupported(keras.layers.Conv2D(4, 3, name="conv"))
    'layer conv (Conv2D) has no vectorised form (a convolution whose kernel differs per replica)'
    >>> layer_unsupported(keras.layers.Dense(4)) is None
    True
    """
    kind = type(layer).__name__
    stateful = kind in STATEFUL_LAYERS and getattr(layer, "rate", 1.0) != 0
    # A seed generator (Gumbel sampling: learning_to_branch) is state the stack freezes.
    if stateful or getattr(layer, "_seed_generators", None):
        return f"layer {layer.name} ({kind}) draws random numbers or keeps training state"
    # Known before tracing, so the fallback is one line instead of TensorFlow's pfor
    # tracebacks (it logs the failed conversion of a per-replica kernel at ERROR level).
    if kind in CONVOLUTIONS:
        return (f"layer {layer.name} ({kind}) has no vectorised form (a convolution whose "
                "kernel differs per replica)")
    return None


def group_unsupported(configs, seed_keys):
    """Why runs of `configs` cannot share one graph: a config's own reason, or configs
    that differ in more than `seed_keys` (None: they can)."""
    for config in configs:
        reason = config_unsupported(config)
        if reason:
            return reason
    first = _without(configs[0].to_dict(), seed_keys)
    for config in configs[1:]:
        if _without(config.to_dict(), seed_keys) != first:
            return "the runs differ in more than their seeds"
    return None


def _without(sections, keys):
    out = {name: dict(values) for name, values in sections.items()}
    for key in keys:
        section, _, rest = key.partition(".")
        if rest.startswith("options."):
            options = dict(out[section].get("options") or {})
            options.pop(rest[len("options."):], None)
            out[section]["options"] = options
        else:
            out.get(section, {}).pop(rest, None)
    return out


def _layers(model):
    stack = list(model.layers)
    while stack:
        layer = stack.pop()
        yield layer
        stack.extend(getattr(layer, "layers", []) or [])
