#!/usr/bin/env python
"""Export a trained run as a TensorFlow Serving SavedModel (next integer version, atomically).

    python export.py --run runs/default --export_base exported/multi_mnist

Uses `<run>/best.keras`. The version folder is written under a temporary
non-integer name (which TF Serving ignores) and renamed into place, so a
server polling `--export_base` never sees a half-written model.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="run dir written by train.py")
    p.add_argument("--export_base", required=True, help="model base path, e.g. exported/multi_mnist")
    p.add_argument("--version", type=int, default=None, help="version number (default: next)")
    p.add_argument("--model_file", default="best.keras", help="model file inside the run dir")
    args = p.parse_args(argv)

    path = os.path.join(args.run, args.model_file)
    if not os.path.exists(path):
        print(f"error: {path} not found (train first: python train.py --output {args.run})",
              file=sys.stderr)
        return 2
    import models
    from models.export import export_saved_model, served_tasks, task_signature_name

    model = models.load_model(path)
    out = export_saved_model(model, args.export_base, version=args.version)
    print(f"exported {path} -> {out}")
    names = [task_signature_name(t) for t in served_tasks(model)]
    print("signatures: " + ", ".join(["serving_default", "tf_example"] + [n for n in names if n]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
