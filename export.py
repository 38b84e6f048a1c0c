#!/usr/bin/env python
"""Export a trained run, or a study's task grouping, as a TensorFlow Serving SavedModel (next
integer version, atomically).

    python export.py --run runs/default --export_base exported/multi_mnist
    python export.py --grouping studies/grouping_planted --budget 3 --export_base exported/planted

Uses `<run>/best.keras`. A `learning_to_branch` run is exported as its learned tree, an
ordinary network without the search (`fixed_tree_model`: the same answers). `--grouping`
exports the networks of a study's grouping for `--budget` networks (TAG's choice of seed
`--seed`, default the first; `--random I`: its I-th random grouping instead) as ONE
SavedModel whose signatures answer every task with its group's network. The version
folder is written under a temporary non-integer name (which TF Serving ignores) and
renamed into place, so a server polling `--export_base` never sees a half-written model.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="run dir written by train.py")
    source.add_argument("--grouping", metavar="STUDY_DIR",
                        help="a study dir with a grouping: section (study.py)")
    p.add_argument("--export_base", required=True, help="model base path, e.g. exported/multi_mnist")
    p.add_argument("--version", type=int, default=None, help="version number (default: next)")
    p.add_argument("--model_file", default="best.keras", help="model file inside each run dir")
    p.add_argument("--budget", type=int, default=None,
                   help="--grouping: the number of networks (required)")
    p.add_argument("--seed", type=int, default=None,
                   help="--grouping: whose grouping (default: the study's first seed)")
    p.add_argument("--random", type=int, default=None, metavar="I",
                   help="--grouping: export random grouping I of that budget instead of TAG's")
    args = p.parse_args(argv)
    try:
        paths, serving = model_files(args)
    except ValueError as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        run = os.path.dirname(missing[0])
        print(f"error: {missing[0]} not found (train first: python train.py --output {run})",
              file=sys.stderr)
        return 2
    return export(paths, serving, args)


def model_files(args):
    """(model files to export, {task: network index} or None) from the flags."""
    if args.run:
        if args.budget is not None or args.seed is not None or args.random is not None:
            raise ValueError("--budget, --seed, --random: only with --grouping")
        return [os.path.join(args.run, args.model_file)], None
    from training.study.grouping import members, read_plans

    if args.budget is None:
        raise ValueError("--budget: required with --grouping; valid: a number of networks the "
                         "study grouped the tasks into")
    plans = read_plans(args.grouping)
    seed = next(iter(plans)) if args.seed is None else args.seed
    if seed not in plans:
        raise ValueError(f"--seed: {seed} has no grouping in {args.grouping}; valid: "
                         f"{', '.join(map(str, plans))}")
    runs, serving = members(plans[seed], args.budget, args.random)
    return [os.path.join(args.grouping, r, args.model_file) for r in runs], serving


def export(paths, serving, args):
    import models
    from models.architectures.learning_to_branch import fixed_tree_model
    from models.export import export_saved_model, served_tasks, task_signature_name
    from models.grouped_export import GroupedModel

    networks = [models.load_model(path) for path in paths]
    for i, network in enumerate(networks):
        if network.architecture == "learning_to_branch" and not network.args.get("tree"):
            networks[i] = fixed_tree_model(network)
            tree = networks[i].args["tree"]
            print(f"{paths[i]}: learning_to_branch, exported as its learned tree (parents per "
                  f"layer {tree['layers']}, tasks {tree['tasks']})")
    model = networks[0] if serving is None else GroupedModel(networks, serving)
    out = export_saved_model(model, args.export_base, version=args.version)
    print(f"exported {', '.join(paths)} -> {out}")
    if serving is not None:
        print("tasks answered by: " + "; ".join(f"{t} <- {paths[i]}" for t, i in
                                                model.serving.items()))
    names = [task_signature_name(t) for t in served_tasks(model)]
    print("signatures: " + ", ".join(["serving_default", "tf_example", "tasks"]
                                     + [n for n in names if n]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
