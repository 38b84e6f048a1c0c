"""Seeds in one graph: S runs that differ only in their seeds, trained as S replicas of
one model in one process and one compiled step, each written as a run of its own.

The mechanism (`stacked`): every weight gets a leading replica axis [S, ...] and
`tf.vectorized_map` batches the model's own forward pass over it; the loss is the sum
of the replicas' losses, so each replica's gradient, and with an element-wise
optimizer (Adam) each update, is exactly its own run's. Each replica has its own
initialisation (its model is built with its seed, as its run would build it), its own
data order (the run's tf.data shuffle replayed on indices, `data`) and, where the seed
changes the data (`data.options.seed` among a study's seed keys), its own data.
`ReplicaTrainer` (`trainer`) logs each replica as `Trainer` logs a run (history,
best epoch by `train.monitor`, early stopping); `ReplicaGroup` (`group`) writes each
run dir as `Experiment.train` does (config.yaml, history.json, best.keras,
metrics.json, evaluation_validation.json). A replica matches its own run to float
rounding (tests/training/test_replicas.py: relative differences below 1e-5 on every
logged metric; 1.1e-7 measured).

Chosen by measuring (S = 64 MMoE-synthetic replicas, batch 128, this 2-core machine,
under load): vectorised maps over the Keras model ~2,200 replica-steps/s; S sub-models
side by side in one graph ~430 (the op count grows with S); one model alone ~600;
hand-written batched einsums of MMoE ~2,500 (barely faster, and per architecture);
XLA (`jit_compile`) on the vectorised map was 1000x slower. `bench/replicas.py` times
64 runs one way and the other.

What qualifies (`support`): one dataset (no `data.sources`); weighting `equal` or
`static`; optimizer `adam`, `adamw`, `sgd` or `rmsprop` without `clipnorm`; no
diagnostics; a model without dropout, noise or batch normalisation, that adds no losses
of its own (`add_loss`), with fixed-shape inputs, whose ops all vectorise (`cnn`'s
Conv2D does not). Measured on every registered architecture (`bench/replicas.py
--support`): docs/guide/studies.md. The rest trains one run per process, with one line
saying why.

`study_runs`: a study with `one_graph: true` trains each cell's seeds this way.

Example:
>>> from training.replicas.support import config_unsupported       # doctest: +SKIP
>>> from training.replicas.group import ReplicaGroup, Unsupported  # doctest: +SKIP
"""
