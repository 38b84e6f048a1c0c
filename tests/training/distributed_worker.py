"""Run by test_distributed.py in subprocesses (TensorFlow's devices and cluster are
fixed per process).

    python tests/training/distributed_worker.py mirrored OUT.npz
        2 logical CPUs: trains `equal` and `pcgrad` on one device and under
        MirroredStrategy over both; saves the final weights of each.
    TF_CONFIG=... python tests/training/distributed_worker.py multi_worker RUN_DIR OUT.npz
        one worker of a MultiWorkerMirroredStrategy cluster; trains `pcgrad` into
        RUN_DIR (only the chief writes there) and saves its final weights.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

METHODS = ("equal", "pcgrad")
EPOCHS = 2


def batches(problem, epoch):
    import tensorflow as tf
    ds = problem.train(epoch, batch_size=16)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def train(problem, method, strategy, run_dir=None, is_chief=True):
    from training.testing import train_config
    from training.trainer import Trainer
    with strategy.scope():
        model = problem.model()
    trainer = Trainer(model, problem.tasks, train_config(weighting=method), run_dir=run_dir,
                      strategy=strategy, is_chief=is_chief, verbose=0)
    history = trainer.fit(lambda e: batches(problem, e), problem.validation(), epochs=EPOCHS)
    return model, history


def main(mode, *args):
    import numpy as np
    import tensorflow as tf

    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from training.distribute import is_chief, make_strategy
    from training.testing import synthetic_problem

    problem = synthetic_problem(num_tasks=3, num_examples=64)
    out = {}
    if mode == "mirrored":
        mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert mirrored.num_replicas_in_sync == 2
        for method in METHODS:
            for name, strategy in (("one", tf.distribute.get_strategy()), ("mirrored", mirrored)):
                model, history = train(problem, method, strategy)
                for i, w in enumerate(model.get_weights()):
                    out[f"{method}/{name}/{i}"] = w
                out[f"{method}/{name}/val_loss"] = np.array(history[-1]["val_loss"])
        np.savez(args[0], **out)
        return 0
    strategy = make_strategy("multi_worker")
    run_dir, path = args
    model, history = train(problem, "pcgrad", strategy, run_dir=run_dir, is_chief=is_chief(strategy))
    np.savez(path, *model.get_weights(), val_loss=np.array(history[-1]["val_loss"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
