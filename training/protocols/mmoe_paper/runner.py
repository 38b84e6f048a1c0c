"""Running the protocol: chunks of runs, each chunk one graph, resumable chunk by chunk.

A chunk is one model and one sine setting: every correlation times (pilot) every
learning rate of the grid or (main) the one the pilot picked, times a block of seeds,
as replicas of one graph (`training.replicas.StackedModel`, with `ReplicaAdam` for a
learning rate per replica). Each replica is initialised as its own run would be
(`Experiment.build_model` with its seed), reads its own data (`data.options.seed`) and
takes its epochs in its own run's order, batch after batch for `steps` steps.
Every `record_every` steps (and at step 0) a chunk records per run and task the mean
training loss over the steps since the last record and the held-out (validation) loss;
at the end the test loss and the loss of a linear least-squares fit on the training
split (the "linear-fit floor"). A chunk's file (`chunks/<phase>/<sines>/<model>/
seeds<a>-<b>.npz`) is written when it is done; a killed run starts that chunk again.

Order: the pilot first; then the learning rates are picked (`pilot.json`: lowest mean
held-out loss at the last step, per model, correlation and sine setting); then the
main chunks, block of seeds by block, so that stopping early leaves every model,
correlation and sine setting with the same runs (paired).

Example:
>>> from training.protocols.mmoe_paper.runner import run_protocol
>>> run_protocol(spec, "studies/mmoe_paper", max_minutes=40, log=print)   # doctest: +SKIP
"""

import dataclasses
import json
import math
import os
import time

import numpy as np
import tensorflow as tf

from training.experiment import write_json
from training.replicas.adam import ReplicaAdam
from training.replicas.data import Split, epoch_orders, example_mapper, gather, split_arrays
from training.replicas.stacked import StackedModel


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Runs of one model and sine setting trained as one graph."""

    phase: str          # "pilot" or "main"
    sines: str
    model: str
    replicas: tuple     # ((correlation, learning rate, seed), ...)

    @property
    def path(self):
        seeds = [s for _, _, s in self.replicas]
        return os.path.join("chunks", self.phase, self.sines, self.model,
                            f"seeds{min(seeds)}-{max(seeds)}.npz")


def pilot_chunks(spec):
    seeds = range(spec.pilot_seed, spec.pilot_seed + spec.pilot_runs)
    return [Chunk("pilot", sines, model, tuple((p, lr, s) for p in spec.correlations
                                               for lr in spec.learning_rates for s in seeds))
            for sines in spec.sines for model in spec.models]


def main_chunks(spec, rates):
    """`rates`: {sines: {model: {str(p): learning rate}}} (`pilot.json`'s choice)."""
    block = max(1, spec.replicas // len(spec.correlations))
    chunks = []
    for start in range(0, spec.runs, block):
        seeds = range(start, min(spec.runs, start + block))
        for sines in spec.sines:
            for model in spec.models:
                chunks.append(Chunk("main", sines, model, tuple(
                    (p, rates[sines][model][f"{p:g}"], s) for p in spec.correlations
                    for s in seeds)))
    return chunks


# ----------------------------------------------------------------- one chunk
def chunk_data(spec, chunk):
    """(the runs' `Experiment`s, their splits {name: `Split`}): replica i reads the data
    of seed `chunk.replicas[i][2]` (the same for every model: paired)."""
    from training.experiment import Experiment

    experiments = [Experiment(spec.config(chunk.model, p, chunk.sines, lr, s))
                   for p, lr, s in chunk.replicas]
    mapper = example_mapper(experiments[0])
    return experiments, {name: Split.stack([split_arrays(e, name, mapper) for e in experiments])
                         for name in ("train", "validation", "test")}


def run_chunk(spec, chunk, output):
    """Trains one chunk and writes its file; returns its wall time in seconds."""
    start = time.perf_counter()
    experiments, splits = chunk_data(spec, chunk)
    # Each run's model built with its seed, as its run would build it (~0.1 s a model).
    # Not re-drawn from one template's initializers: those hold a fixed integer seed
    # and would give every replica the same initial weights.
    setup = experiments[0].setup
    stacked = StackedModel([e.build_model() for e in experiments], experiments[0].tasks,
                           setup.loss_options, setup.make_weighting().fixed)
    optimizer = ReplicaAdam([lr for _, lr, _ in chunk.replicas])
    optimizer.build(stacked.variables)
    record = Recorder(stacked, optimizer, splits, [s for _, _, s in chunk.replicas],
                      experiments[0].config)
    curves = record.train(spec.steps, spec.record_every)
    curves["floor"] = linear_floor(splits["train"], splits["test"], stacked.size)
    curves["label_variance"] = label_variance(splits["test"], stacked.size)
    curves["replicas"] = np.array(chunk.replicas, np.float64)
    path = os.path.join(output, chunk.path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        np.savez(f, **curves)
    os.replace(path + ".tmp", path)
    return time.perf_counter() - start


class Recorder:
    """The step loop of a chunk and its records."""

    def __init__(self, stacked, optimizer, splits, seeds, config):
        self.stacked, self.optimizer, self.splits = stacked, optimizer, splits
        self.seeds, self.batch = seeds, config.train.batch_size
        self.buffer = config.data.shuffle_buffer
        self.tensors = {name: split.tensors() for name, split in splits.items()}
        self._step = tf.function(self._step_fn, reduce_retracing=True)
        self._loss = tf.function(self._loss_fn)

    def _step_fn(self, index):
        inputs, labels, masks = gather(self.tensors["train"], index, self.splits["train"].shared)
        sums, counts, _ = self.stacked.train_step(self.optimizer, inputs, labels, masks)
        return sums / tf.maximum(counts, 1.0)

    def _loss_fn(self, name):
        """Each run's mean loss per task on a whole split [S, T]."""
        split = self.splits[name]
        rows = tf.range(split.size)
        index = tf.tile(rows[None], [self.stacked.size, 1])
        inputs, labels, masks = gather(self.tensors[name], index, split.shared)
        sums, counts, _ = self.stacked.losses(inputs, labels, masks)
        return sums / tf.maximum(counts, 1.0)

    def train(self, steps, every):
        """{"train": [S, R, T], "validation": [S, R + 1, T], "test": [S, T], "steps": [R + 1],
        "step_seconds": the mean wall time of a step after the first}."""
        n = self.splits["train"].size
        per_epoch = math.ceil(n / self.batch)
        train, held_out, window, order = [], [self._loss("validation").numpy()], [], None
        clock = None
        for step in range(steps):
            if step == 1:
                clock = time.perf_counter()
            epoch, b = divmod(step, per_epoch)
            if b == 0:
                order = epoch_orders(n, self.seeds, epoch, self.buffer).astype(np.int32)
            window.append(self._step(tf.constant(order[:, b * self.batch:(b + 1) * self.batch]))
                          .numpy())
            if (step + 1) % every == 0 or step + 1 == steps:
                train.append(np.mean(window, axis=0))
                held_out.append(self._loss("validation").numpy())
                window = []
        recorded = [s for s in range(every, steps + 1, every)]
        if recorded[-1:] != [steps]:
            recorded.append(steps)
        seconds = (time.perf_counter() - clock) / (steps - 1) if clock else float("nan")
        return {"train": np.stack(train, 1), "validation": np.stack(held_out, 1),
                "test": self._loss("test").numpy(), "steps": np.array([0] + recorded),
                "step_seconds": np.array(seconds)}


def linear_floor(train, test, size):
    """[S, T]: test MSE of each run's least-squares line (with intercept), per task (normal
    equations, the products in float32 and the solve in float64: an SVD per run took
    seconds here, float64 products 80 ms a run)."""
    out = []
    for r in range(size):
        (x, y, _), (xt, yt, _) = train.replica(r), test.replica(r)
        x, xt = _design(x), _design(xt)
        tasks = sorted(y)
        targets = np.stack([y[k].reshape(len(x)) for k in tasks], axis=1).astype(np.float32)
        coef = np.linalg.solve((x.T @ x).astype(np.float64), (x.T @ targets).astype(np.float64))
        truth = np.stack([yt[k].reshape(len(xt)) for k in tasks], axis=1)
        out.append(np.mean((xt @ coef.astype(np.float32) - truth) ** 2, axis=0))
    return np.array(out)


def label_variance(test, size):
    """[S, T]: each run's test label variance (the loss of predicting the mean)."""
    return np.array([[float(np.var(test.replica(r)[1][k])) for k in sorted(test.labels)]
                     for r in range(size)])


def _design(inputs):
    x = np.concatenate([v.reshape(len(v), -1) for _, v in sorted(inputs.items())], axis=1)
    return np.concatenate([x, np.ones((len(x), 1))], axis=1).astype(np.float32)


# ----------------------------------------------------------------- the whole protocol
def pick_rates(spec, output):
    """{sines: {model: {p: {"rates": {lr: mean final held-out loss}, "chosen": lr}}}} from the
    pilot's chunks; None while a pilot chunk is missing."""
    picked = {}
    for chunk in pilot_chunks(spec):
        path = os.path.join(output, chunk.path)
        if not os.path.exists(path):
            return None
        with np.load(path) as f:
            held_out, steps = f["validation"].mean(axis=2), f["steps"]
        final = held_out[:, -1]
        for p in spec.correlations:
            rates = {}
            for lr in spec.learning_rates:
                rows = [i for i, (q, r, _) in enumerate(chunk.replicas) if q == p and r == lr]
                values = np.where(np.isfinite(final[rows]), final[rows], np.inf)
                rates[f"{lr:g}"] = float(np.mean(values))
            best = min(spec.learning_rates, key=lambda lr: rates[f"{lr:g}"])
            rows = [i for i, (q, r, _) in enumerate(chunk.replicas) if q == p and r == best]
            picked.setdefault(chunk.sines, {}).setdefault(chunk.model, {})[f"{p:g}"] = {
                "rates": rates, "chosen": best,
                "last_fifth_drop": last_fifth_drop(steps, held_out[rows])}
    return picked


FLAT = 0.01  # "the mean curve flattens": its held-out loss falls < 1% over the last fifth


def last_fifth_drop(steps, held_out):
    """How much the mean held-out loss [runs, records] falls over the last fifth of the
    steps, relative to its last value (< `FLAT`: the mean curve has flattened)."""
    mean = np.nanmean(np.asarray(held_out, np.float64), axis=0)
    at = int(np.searchsorted(steps, 0.8 * steps[-1], side="right")) - 1
    return float((mean[at] - mean[-1]) / abs(mean[-1]))


def run_protocol(spec, output, max_minutes=None, log=print):
    """Runs the pending chunks until done or until the next would pass `max_minutes`;
    returns True when every chunk is done."""
    check_output(spec, output)
    started, last = time.perf_counter(), None
    for phase in ("pilot", "main"):
        chunks = pilot_chunks(spec) if phase == "pilot" else main_chunks(spec, chosen_rates(
            spec, output))
        todo = [c for c in chunks if not os.path.exists(os.path.join(output, c.path))]
        log(f"{phase}: {len(chunks) - len(todo)} of {len(chunks)} chunks done")
        for i, chunk in enumerate(todo):
            used = (time.perf_counter() - started) / 60.0
            if max_minutes and last and used + last / 60.0 > max_minutes:
                log(f"stopping after {used:.1f} min (--max_minutes {max_minutes}); "
                    f"{len(todo) - i} {phase} chunk(s) left: run the same command again")
                return False
            last = run_chunk(spec, chunk, output)
            log(f"  {phase} {chunk.sines} {chunk.model}: {len(chunk.replicas)} runs in one "
                f"graph, {last:.0f} s ({len(chunk.replicas) * spec.steps / last:.0f} "
                f"run-steps/s) [{i + 1}/{len(todo)}]")
    return True


# What a chunk's numbers depend on: an output holding chunks of other values is refused.
# (`runs` may grow: more blocks of seeds; `name` is a label.)
FINGERPRINT = ("base", "set", "models", "correlations", "sines", "learning_rates",
               "pilot_runs", "pilot_seed", "steps", "record_every", "replicas")


def check_output(spec, output):
    """Writes `<output>/protocol.json` (the spec's values that the chunks depend on) or,
    when one is there, raises StudyError if the spec differs from it."""
    from training.study.spec import REPO, StudyError

    values = {k: getattr(spec, k) for k in FINGERPRINT}
    values["base"] = os.path.relpath(os.path.abspath(values["base"]), REPO)
    values = json.loads(json.dumps(values))
    path = os.path.join(output, "protocol.json")
    if os.path.exists(path):
        with open(path) as f:
            there = json.load(f)
        changed = [k for k in FINGERPRINT if there.get(k) != values[k]]
        if changed:
            raise StudyError(f"{spec.path}: {changed[0]}: differs from the chunks in {output} "
                             f"({path}); give another --output or restore the value")
        return
    os.makedirs(output, exist_ok=True)
    write_json(path, values)


def chosen_rates(spec, output, picked=None):
    """{sines: {model: {p: learning rate}}} the pilot picked (`picked`: `pick_rates`'s
    answer when the caller has it; also written to pilot.json)."""
    picked = pick_rates(spec, output) if picked is None else picked
    write_json(os.path.join(output, "pilot.json"), picked)
    return {s: {m: {p: v["chosen"] for p, v in ps.items()} for m, ps in ms.items()}
            for s, ms in picked.items()}


def read_chunks(spec, output, picked):
    """Every finished main chunk: [(chunk, {name: array})]; [] before the pilot is done
    (`picked`: `pick_rates(spec, output)`, None then)."""
    if picked is None:
        return []
    out = []
    for chunk in main_chunks(spec, chosen_rates(spec, output, picked)):
        path = os.path.join(output, chunk.path)
        if os.path.exists(path):
            with np.load(path) as f:
                out.append((chunk, dict(f)))
    return out
