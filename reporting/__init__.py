"""Reports a person opens in a browser: one self-contained HTML file per run or study.

- `reporting.run_report.write_run_report(run_dir)`: learning curves, task weights,
  gradient conflict, task affinity, gate use;
- `reporting.study_report.write_study_report(study_dir)`: the leaderboard with
  confidence intervals, verdicts, bars, Δm, Pareto plot, cost, per-cell diagnostics.

`python report.py --run runs/x` / `--study studies/x` call them.
"""
