"""Compare the zoo's architectures on one config: parameters and training throughput.

    python bench/architectures.py                       # the multi_mnist sizes of configs/arch_*.yaml
    python bench/architectures.py --steps 20 --batch_size 128 --architectures mmoe,ple

For each architecture (with the `model.args` of its `configs/arch_<name>.yaml`) it
prints the parameter count and examples/s of `Trainer.train_step` on random
28x28 images after one warm-up step. Timings on shared CPUs are noisy: compare
runs made at the same time.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--architectures", default="", help="comma-separated (default: all)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch_size", type=int, default=128)
    args = p.parse_args(argv)

    import numpy as np
    import yaml

    import data
    import models
    from training.testing import train_config
    from training.trainer import Trainer

    spec = data.get_dataset("multi_mnist")
    names = [a for a in args.architectures.split(",") if a] or models.list_architectures()
    rng = np.random.default_rng(0)
    n = args.batch_size
    batch = ({"image": rng.integers(0, 256, (n, 28, 28, 1)).astype(np.uint8)},
             {"left": rng.integers(0, 10, n), "right": rng.integers(0, 10, n),
              "same_digit": rng.integers(0, 2, (n, 1)).astype(np.float32)},
             {t.name: np.ones(n, np.float32) for t in spec.tasks})
    print(f"{'architecture':<15} {'parameters':>10} {'examples/s':>11}")
    for name in names:
        path = os.path.join("configs", f"arch_{name}.yaml")
        with open(path) as f:
            cfg = yaml.safe_load(f)["model"]
        model = models.MultiTaskModel(tasks=spec.tasks, inputs=spec.inputs, **cfg)
        trainer = Trainer(model, spec.tasks, train_config(), verbose=0)
        trainer.train_step(batch)  # trace
        start = time.perf_counter()
        for _ in range(args.steps):
            loss, _ = trainer.train_step(batch)
        float(loss)
        rate = args.steps * n / (time.perf_counter() - start)
        print(f"{name:<15} {model.count_params():>10,} {rate:>11,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
