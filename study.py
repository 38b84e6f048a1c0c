#!/usr/bin/env python
"""Run a study: a base experiment x a grid of settings x seeds, with single-task baselines,
an optional tuned equal-weighting baseline, and a leaderboard with confidence intervals.

    python study.py --config configs/studies/tiny.yaml --output studies/tiny
    python study.py --config configs/studies/multi_mnist.yaml --output studies/multi_mnist --jobs 1
    python study.py --config configs/studies/tiny.yaml --output studies/tiny --set train.epochs=2
    python study.py --config configs/studies/tiny.yaml --output studies/tiny --plan   # list the runs

Many machines: start any number of workers against one shared database, the study folder
on a path they all see (each takes the next run; a dead worker's run is taken over):

    python study.py --config configs/studies/tiny.yaml --output /shared/studies/tiny \
        --storage postgresql://USER:PASSWORD@HOST:5432/DB --worker

Each run's TensorFlow uses every core it sees unless --threads_per_run K says otherwise (a pod
with K CPUs on a shared node):

    python study.py ... --storage URL --worker --jobs 0 --threads_per_run 2

A killed study continues where it stopped when run again with the same arguments.
The trials live in Optuna's storage (<output>/optuna.db unless --storage; watch them with
`optuna-dashboard <storage URL>`). Writes <output>/study.json (every run and the
leaderboard) and prints the leaderboard; `python report.py --study <output>` turns it into
an HTML report. Exit status: 0 every run done, 1 some run failed (the others are kept),
2 a bad study file or option, or a storage that cannot be opened or holds another study.
See training/study/spec.py for the study file's keys.

A protocol study file (`protocol: mmoe_paper`: an experiment run as a paper runs it,
training/protocols/) trains in chunks of runs, each one graph, and resumes chunk by
chunk; `--max_minutes M` starts no chunk that would end after M minutes (exit status 3:
chunks left, run the same command again):

    python study.py --config configs/studies/mmoe_paper.yaml --output studies/mmoe_paper \
        --max_minutes 40
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parser():
    """study.py's command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="the study's YAML file (configs/studies/...)")
    p.add_argument("--output", default=None, help="study dir (default studies/<file name>)")
    p.add_argument("--jobs", type=int, default=1,
                   help="train.py subprocesses at a time (default 1); 0: in this process")
    p.add_argument("--threads_per_run", type=int, default=None, metavar="K",
                   help="TensorFlow and OpenMP threads of each run (default or 0: "
                        "TensorFlow's own, every core it sees); e.g. a pod's CPUs when pods "
                        "share a node")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the base experiment of every run (repeatable)")
    p.add_argument("--plan", action="store_true", help="print the runs and exit")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="Optuna storage the workers share: postgresql://USER:PASSWORD@HOST/DB, "
                        "mysql+pymysql://..., sqlite:///PATH (default sqlite:///<output>/optuna.db)")
    p.add_argument("--worker", action="store_true",
                   help="run as one of many workers of --storage: take runs until none is "
                        "left, write study.json, print no leaderboard")
    p.add_argument("--heartbeat", type=int, default=30, metavar="S",
                   help="seconds between a running trial's heartbeats (default 30)")
    p.add_argument("--grace", type=int, default=None, metavar="S",
                   help="seconds without a heartbeat before another worker takes a run over "
                        "(default 4 heartbeats)")
    p.add_argument("--max_minutes", type=float, default=None,
                   help="protocol studies (protocol: in the study file): start no chunk that "
                        "would end after this many minutes; the same command resumes")
    return p


def flag_error(args):
    """What is wrong with the flags' values together (a `config error:` message), or None."""
    for flag, value, low in (("--jobs", args.jobs, 0), ("--heartbeat", args.heartbeat, 1),
                             ("--grace", args.grace, 1), ("--threads_per_run",
                                                          args.threads_per_run, 0)):
        if value is not None and value < low:
            return f"{flag}: must be >= {low}"
    if args.max_minutes is not None and args.max_minutes <= 0:
        return "--max_minutes: must be > 0"
    if args.worker and not args.storage:
        return "--worker: needs --storage URL, the database the workers share"
    return None


def plan_line(run, output):
    """One run as `--plan` lists it; a run after a tuned study's pilot waits for its
    contender's selection (its setting, hence its folder, is not known before)."""
    if run.waiting:
        name = f"{run.cell or ''} (after the pilot's selection)".strip()
        where = os.path.join(output, run.contender, "<selected>", f"seed{run.seed}")
        return f"{run.group:<12} {name:<40} seed {run.seed:<4} {'waits':<7} {where}"
    state = "done" if run.done else "to run"
    name = f"{run.cell} {run.setting}" if run.setting else run.cell
    return f"{run.group:<12} {name:<40} seed {run.seed:<4} {state:<7} {run.run_dir}"


def main(argv=None):
    args = parser().parse_args(argv)
    error = flag_error(args)
    if error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    output = args.output or os.path.join(
        "studies", os.path.splitext(os.path.basename(args.config))[0])

    from training.study import threads

    # Set before TensorFlow starts (here, or in the train.py subprocesses, which inherit
    # them); put back afterwards for a caller in the same process (tests).
    with threads.applied(args.threads_per_run) as per_run:
        if per_run is not None and not args.plan:
            print(f"threads per run: {per_run} ({', '.join(threads.VARIABLES)})")
        return run(args, output)


def run(args, output):
    """The study of the checked `args` into `output`; the exit status."""
    from training.protocols import protocol_of

    if protocol_of(args.config):
        return run_protocol(args, output)

    from training.study import Study, StudyError

    if args.storage and not args.plan and not storage_opens(args):
        return 2
    try:
        study = Study(args.config, output, sets=args.set)
    except (StudyError, ValueError) as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    if args.plan:
        print_plan(study, output)
        return 0
    return run_grid(study, args, output)


def run_protocol(args, output):
    """Runs a protocol study file; the grid study's flags it does not take are refused."""
    from training.protocols import run_study

    ignored = [flag for flag, given in (("--set", args.set), ("--plan", args.plan),
                                        ("--storage", args.storage),
                                        ("--worker", args.worker)) if given]
    if ignored:  # say so rather than run something other than what was asked
        print(f"config error: {', '.join(ignored)}: not taken by a protocol study file "
              f"({args.config}); edit its keys instead", file=sys.stderr)
        return 2
    return run_study(args.config, output, args.max_minutes)


def storage_opens(args):
    """Whether `--storage` opens (an error printed when not), checked before planning, which
    starts TensorFlow: a bad URL fails within seconds."""
    from training.study import StudyError
    from training.study.storage import open_storage

    try:
        open_storage(args.storage, heartbeat=args.heartbeat, grace=args.grace)
    except StudyError as e:
        print(f"error: {e}", file=sys.stderr)
        return False
    return True


def print_plan(study, output):
    """One line per planned run (its group, cell and setting, seed, state and folder), after
    a line on the pilot when the study tunes on one."""
    if study.pilot:
        pilot, seeds = study.plan.pilot_seeds(), study.spec.seeds
        print(f"pilot: every setting of every contender with seed(s) "
              f"{', '.join(map(str, pilot))}; seed(s) "
              f"{', '.join(str(s) for s in seeds if s not in pilot)} train each "
              f"contender's selected setting only")
    for run in study.runs:
        print(plan_line(run, output))


def run_grid(study, args, output):
    """Runs the study's runs (as a worker when `--worker`); the exit status: 1 when a run
    failed."""
    from training.study import StudyError

    try:
        failed = study.run(jobs=args.jobs, storage=args.storage, heartbeat=args.heartbeat,
                           grace=args.grace)
    except StudyError as e:
        print(f"{'error' if str(e).startswith('--storage') else 'config error'}: {e}",
              file=sys.stderr)
        return 2
    if args.worker:
        print(f"worker done: {len(failed)} run(s) failed here; wrote "
              f"{os.path.join(output, 'study.json')}")
        return 1 if failed else 0
    print(study.leaderboard_text())
    print(f"wrote {os.path.join(output, 'study.json')}; report: python report.py --study {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
