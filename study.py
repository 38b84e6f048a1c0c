#!/usr/bin/env python
"""Run a study: a base experiment x a grid of settings x seeds, with single-task baselines,
an optional tuned equal-weighting baseline, and a leaderboard with confidence intervals.

    python study.py --config configs/studies/tiny.yaml --output studies/tiny
    python study.py --config configs/studies/multi_mnist.yaml --output studies/multi_mnist --jobs 1
    python study.py --config configs/studies/tiny.yaml --output studies/tiny --set train.epochs=2
    python study.py --config configs/studies/tiny.yaml --output studies/tiny --plan   # list the runs

A killed study continues where it stopped when run again with the same arguments.
Writes <output>/study.json (every run and the leaderboard) and prints the leaderboard;
`python report.py --study <output>` turns it into an HTML report. Exit status: 0 every
run done, 1 some run failed (the others are kept), 2 a bad study file or option.
See training/study/spec.py for the study file's keys.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="the study's YAML file (configs/studies/...)")
    p.add_argument("--output", default=None, help="study dir (default studies/<file name>)")
    p.add_argument("--jobs", type=int, default=1,
                   help="train.py subprocesses at a time (default 1); 0: in this process")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the base experiment of every run (repeatable)")
    p.add_argument("--plan", action="store_true", help="print the runs and exit")
    args = p.parse_args(argv)
    if args.jobs < 0:
        print("config error: --jobs: must be >= 0", file=sys.stderr)
        return 2
    output = args.output or os.path.join(
        "studies", os.path.splitext(os.path.basename(args.config))[0])

    from training.study import Study, StudyError

    try:
        study = Study(args.config, output, sets=args.set)
    except (StudyError, ValueError) as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    if args.plan:
        for run in study.runs:
            state = "done" if run.done else "to run"
            print(f"{run.group:<12} {run.cell:<40} seed {run.seed:<4} {state:<7} {run.run_dir}")
        return 0
    try:
        failed = study.run(jobs=args.jobs)
    except StudyError as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    print(study.leaderboard_text())
    print(f"wrote {os.path.join(output, 'study.json')}; report: python report.py --study {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
