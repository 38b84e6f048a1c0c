"""Which tasks should share a network: TAG's task grouping from measured affinity.

Fifty et al., "Efficiently Identifying Task Groupings for Multi-Task Learning",
NeurIPS 2021: train every task together for a few epochs while recording the
inter-task affinity (`train.affinity_per_epoch`, `training/diagnostics.py`), then
choose, for each budget of k networks, the groups with the highest total affinity
onto each task from its group.

- `affinity.py`: the affinity a run recorded (`read_affinity(run_dir)`), restricted to
  some tasks; clear errors for a run without it and for unknown tasks;
- `search.py`: the search (exact branch-and-bound, beam search for many tasks,
  overlapping groups as in the paper), pure numpy;
- `plan.py`: one grouping per budget with its predicted gain (`choose_groupings`), and
  random groupings of a budget (the baseline);
- `spec.py`: a study's `grouping:` section, declared (`GroupingSpec`);
- `configs.py`: the config of one group's network and of the affinity run;
- `measure.py`: what trained groupings measured, per budget over seeds, against one
  network, random groupings and the single-task networks; predicted against measured;
  the recovery of a planted grouping.

`training/study/grouping.py` runs it all inside a study (`study.py`, a `grouping:`
section); `models/grouped_export.py` serves a trained grouping as one SavedModel
(`export.py --grouping`); `reporting/grouping_report.py` reports it. How to use it:
docs/guide/grouping.md.

Example:
>>> from training.grouping.affinity import read_affinity        # doctest: +SKIP
>>> from training.grouping.plan import choose_groupings         # doctest: +SKIP
>>> names, z = read_affinity("runs/all_tasks")                  # doctest: +SKIP
>>> [g.groups for g in choose_groupings(z, names, budgets=[2])] # doctest: +SKIP
[(('left', 'same_digit'), ('right',))]
"""
