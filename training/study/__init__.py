"""Studies: a base experiment times a grid of settings times seeds, with statistics.

A study answers "which multi-task setup beats separate single-task models on this
data, by how much, and is that more than seed noise?". Its YAML file
(`configs/studies/*.yaml`) names a base experiment and what varies:

```yaml
base: configs/tiny.yaml          # any experiment config
set: [train.epochs=2]            # overrides of the base (optional)
seeds: 3                         # a count (0, 1, 2) or a list; default 3
seed_keys: [train.seed]          # config keys set to the seed (default: train.seed)
grid:                            # cells: the product of the axes
  model.architecture: [shared_bottom, mmoe]      # an axis: a key and its values
  weighting:                                     # a named axis: label -> overrides
    equal: {train.weighting: equal}
    pcgrad: {train.weighting: pcgrad, train.weighting_args: {seed: 1}}
single_task: true                # one single-task model per task and seed (default true)
one_graph: true                  # each cell's seeds as replicas of one graph, where the
                                 # model allows (training/replicas/); default false
tuned_equal:                     # a tuned equal-weighting baseline (optional): static
  train.learning_rate: [0.001, 0.003]            # weighting over this grid, selected
  train.task_weights: [{}, {left: 2.0}]          # on the validation split
tune:                            # every contender tuned with the same budget (optional)
  grid: {train.learning_rate: [0.001, 0.003]}    # the settings every contender trains at
  budget: 2                                      # = the grid's size = tuned_equal's settings
  pilot_seeds: 1                                 # select on seed 0; the rest train the choice
grouping: {affinity_epochs: 3, random: 2}        # task grouping (optional, see below)
```

Every run is an ordinary run dir (`<output>/runs/<cell>/seed<k>`,
`<output>/single_task/<task>/seed<k>`, `<output>/tuned_equal/<label>/seed<k>`):
`evaluate.py`, `export.py` and `report.py --run` work on it. The single-task
baselines (the base config's encoder and tower, one task) are trained once per seed
and shared by every cell; when an axis changes the data (a `data.` key, e.g. the
task correlation of `mmoe_synthetic`), each distinct dataset gets its own baselines
(`<output>/single_task/<data label>/<task>/seed<k>`). A killed study
continues where it stopped: finished runs are skipped and an interrupted one
resumes from its last checkpoint.

The tuned equal-weighting baseline is the fair comparison (Xin et al., NeurIPS
2022; Kurin et al., NeurIPS 2022: gradient-balancing methods rarely beat a tuned
equal weighting): every setting of the `tuned_equal` grid is trained with every
seed, the setting with the best mean validation score is selected (score: Δm
against the single-task models' validation metrics, or without them the mean
primary metric, sign-adjusted), and its test metrics are reported beside the cells.

With `tune:` every contender gets that treatment with the same budget (`tuning.py`):
each cell, each single-task baseline and `tuned_equal` is trained at every setting of
`tune.grid` (`budget` settings; `tuned_equal` must have as many) with every seed
(`runs/<cell>/<setting>/seed<k>`, `single_task/<task>/<setting>/seed<k>`); each
contender's setting is selected on validation only (mean over seeds of Δm against the
single-task models' selected settings, or the sign-adjusted primary metric; a
single-task model: its task's), and only the selected setting's test metrics enter the
leaderboard, which shows the setting and the seeds each interval rests on. Train to
convergence with `set: [train.epochs=12, train.early_stopping_patience=2]`: every run
stops once `train.monitor` stops improving and is tested with its best epoch's weights.
A budget that cannot be met is a study file error naming the key (exit 2).
`tune.pilot_seeds: K` selects on the first K seeds only and trains only the selected
setting with the others (`pilot`: the runs after the pilot join the queue as each
contender is selected).

`<output>/study.json` holds every run (config, seed, test and validation metrics,
wall time, step time, peak memory) and the leaderboard: per cell and task the
primary metric's mean, standard deviation and 95% interval over seeds, Δm with its
interval, and the paired-by-seed differences to the single-task models and to the
tuned equal weighting (`training/statistics.py`).

A `grouping:` section adds task grouping (TAG, Fifty et al. 2021): per seed an
affinity run, the groupings chosen for each number of networks and random ones, one
run per distinct group, and a `grouping` section in `study.json` (`grouping.py`;
`training/grouping/`; docs/guide/grouping.md).

The package, one idea per module: `spec` (the study file, typed: `StudySpec`),
`grid` (axes and their product), `plan` (the runs, each config checked before any run
starts), `search` (a searched tuned baseline), `tuning` (every contender's settings, the
budget and the selection on validation), `pilot` (the selection on a pilot of seeds, which
queues the other seeds' runs), `storage` and `trials` (the runs as trials of an
Optuna storage, taken by any number of workers; `identity`: the study a storage holds), `runner`
(workers running them, in process or as `train.py` subprocesses), `leaderboard` (the
statistics of `study.json`), `text` (the leaderboard as text), `grouping` (the grouping
stage, whose runs join the trials as their seed's groupings are chosen) and `study`
(`Study`, which ties them together for `study.py`).

Example:
>>> from training.study import Study
>>> study = Study("configs/studies/tiny.yaml", "studies/tiny")   # doctest: +SKIP
>>> study.run(jobs=1)                                            # doctest: +SKIP
>>> print(study.leaderboard_text())                              # doctest: +SKIP
"""

from training.study.spec import StudyError, StudySpec  # noqa: F401
from training.study.study import Study  # noqa: F401


