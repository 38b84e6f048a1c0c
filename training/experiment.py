"""From a config to data, model and trainer: the glue shared by the entry scripts.

`Experiment(config)` takes a `training.config.Config` (what `load_config` returns),
resolves the dataset and its tasks, and the `train:` section against them
(`training.setup.TrainSetup`: the weighting method, the monitored metric, the loss
options), each once, before any data or model work.

Example:
>>> from training.config import load_config
>>> from training.experiment import Experiment
>>> exp = Experiment(load_config("configs/tiny.yaml"))        # doctest: +SKIP
>>> results = exp.train("runs/tiny")                          # doctest: +SKIP
"""

import dataclasses
import json
import os

import keras
import tensorflow as tf

import data
import models
from data import mixture, pipeline
from tasks import select_tasks
from training.config import save_config
from training.setup import TrainSetup
from training.trainer import Trainer
from utils.arguments import ArgumentError


class Experiment:
    """A resolved config: the sources and their tasks (a `data.mixture.Mixture`; a plain
    `data.name` is a mixture of one), the selected tasks, the data dir and the `TrainSetup`;
    ValueError naming the key when something does not fit the data."""

    def __init__(self, config, strategy=None, is_chief=True):
        self.config = config
        self.is_chief = is_chief
        dc = config.data
        every = mixture.Mixture.from_config(dc, data.get_dataset)
        label = dc.name if not dc.sources else "data.sources"
        self.tasks = mark_auxiliary(select_tasks(every.tasks, dc.tasks, label), dc.auxiliary_tasks)
        # The sources that label a selected task (a single-task baseline: its own sources).
        self.mixture = every.restricted({t.name for t in self.tasks})
        self.sampling = mixture.Sampling(**dc.sampling)
        self.data_dir = dc.data_dir or pipeline.default_data_dir()
        self.strategy = strategy or tf.distribute.get_strategy()
        self.setup = TrainSetup.resolve(config.train, self.tasks)
        self.sampling.check(self.mixture, self.setup.method.uses_gradients)
        # Every task of the data: evaluate.py and studies ask for subsets of them.
        self.primary = primary_metrics(config.train.primary_metrics, every.tasks)

    @property
    def spec(self):
        """The dataset of a single-source experiment."""
        if len(self.mixture.sources) != 1:
            raise ValueError("this experiment mixes several sources; see .mixture")
        return self.mixture.sources[0].spec

    def data_name(self):
        """What the run reads, for messages: the dataset, or its sources."""
        if not self.config.data.sources:
            return f"dataset {self.config.data.name}"
        return "sources " + ", ".join(f"{name} ({text})"
                                      for name, text in self.source_descriptions().items())

    def source_descriptions(self):
        """{source: its dataset and slice of the training split, with the TFDS split read
        where the dataset is built and that reads otherwise}."""
        return {s.name: s.describe(mixture.built_splits(s.spec, self.data_dir))
                for s in self.mixture.sources}

    @property
    def mixed(self):
        """Whether training draws from sources (`data.sources`, or a fixed epoch length)
        rather than passing over one dataset."""
        return bool(self.config.data.sources) or self.sampling.steps_per_epoch is not None

    def primary_metrics(self, tasks=None):
        """{task: (metric, higher_is_better)} for `tasks` (default: the trained ones)."""
        return {t.name: self.primary[t.name] for t in tasks or self.tasks}

    # ------------------------------------------------------------------ data
    def prepare(self):
        """Builds every source's dataset where it is missing; a source's training split
        that is not one, or holds nothing, is an error naming it (ArgumentError)."""
        for i, source in enumerate(self.mixture.sources):
            if not self.config.data.sources:
                pipeline.prepare(source.spec, self.data_dir)
                continue
            try:
                info = pipeline.prepare(source.spec, self.data_dir).info
            except ValueError as e:  # a bad file found while building: name the source's key
                raise type(e)(mixture.in_source(str(e), i)) from None
            where = f"data.sources[{i}].split: {source.train_split!r}"
            try:  # a slice of the dataset's own training split, never of TFDS's raw one
                size = info.splits[source.tfds_split("train", info.splits)].num_examples
            except ValueError as e:
                raise ArgumentError(f"{where} is not a slice of the training split of "
                                    f"{source.spec.name!r}: {e}") from None
            if size == 0:
                raise ArgumentError(f"{where} holds no examples of {source.spec.name!r}; "
                                    "valid: a slice of its training split with examples")

    def examples(self, split, tasks=None):
        """One split's examples, each task labelled on its own sources only."""
        dc = self.config.data
        take = dc.max_train_examples if split == "train" else dc.max_eval_examples
        tasks = tasks or self.tasks
        if not self.mixed:
            return pipeline.load_examples(self.spec, split, tasks, self.data_dir, take=take)
        return mixture.eval_examples(self.mixture, split, tasks, self.data_dir, take=take)

    def train_fn(self, tasks=None, batch_size=None):
        """`epoch -> batches`: a seeded shuffle per epoch (and, from sources, a seeded draw
        per epoch), so a resumed run sees what an uninterrupted one would. The function's
        `epoch_logs(epoch)` gives the proportions of sources that epoch drew."""
        tc, dc = self.config.train, self.config.data
        size = batch_size or tc.batch_size
        if not self.mixed:
            base = self.examples("train", tasks)

            def fn(epoch):
                return pipeline.batch(base, size, shuffle_seed=tc.seed + epoch,
                                      shuffle_buffer=dc.shuffle_buffer)
            fn.epoch_logs = lambda epoch: {}
            return fn
        sizes = mixture.train_sizes(self.mixture, self.data_dir, take=dc.max_train_examples)
        examples = mixture.training_examples(self.mixture, tasks or self.tasks, self.data_dir,
                                             take=dc.max_train_examples)
        realised = {}

        def fn(epoch):
            ds, realised[epoch] = mixture.train_batches(
                self.mixture, examples, sizes, self.sampling, size, tc.seed, epoch, tc.epochs,
                shuffle_buffer=dc.shuffle_buffer)
            return ds
        fn.epoch_logs = lambda epoch: {"sampling": realised.get(epoch, {})}
        fn.examples = examples  # per source, built once (benchmarks warm their caches)
        return fn

    def eval_data(self, split, tasks=None, batch_size=None):
        return pipeline.batch(self.examples(split, tasks), batch_size or self.config.train.batch_size)

    def label_counts(self, tasks=None):
        """{task: {split: {"labelled": n, "examples": n}}} over train, validation and test;
        training examples counted in the sources (before any sampling)."""
        tasks = tasks or self.tasks
        counts = {t.name: {} for t in tasks}
        for split in ("train", "validation", "test"):
            if split == "train" and self.mixed:
                ds = _concatenate([self.source_examples(s, "train", tasks)
                                   for s in self.mixture.sources])
            else:
                ds = self.examples(split, tasks)
            for task, count in _count_labels(ds, tasks).items():
                counts[task][split] = count
        return counts

    def source_examples(self, source, split, tasks=None):
        """One source's examples of `split`, labelled for its own tasks only."""
        dc = self.config.data
        take = dc.max_train_examples if split == "train" else dc.max_eval_examples
        return mixture.source_examples(source, split, tasks or self.tasks, self.data_dir, take)

    def source_label_counts(self, tasks=None):
        """{source: {task: {"labelled": n, "examples": n}}} of each source's training split
        (its own tasks); a source without a labelled example of a task it claims is an error
        naming it (ArgumentError: exit 2)."""
        tasks = tasks or self.tasks
        out = {}
        for i, source in enumerate(self.mixture.sources):
            own = [t for t in tasks if t.name in source.task_names()]
            out[source.name] = _count_labels(self.source_examples(source, "train", own), own)
            empty = [t for t, c in out[source.name].items() if c["labelled"] == 0]
            if empty:
                raise ArgumentError(
                    f"data.sources[{i}].tasks: source {source.name!r} has no labelled training "
                    f"example of task(s) {empty} (split {source.train_split!r}); valid: tasks it "
                    "labels")
        return out

    # ----------------------------------------------------------------- model
    def build_model(self, tasks=None, architecture=None):
        """The config's model; an argument that does not fit the tasks (e.g. a funnel task
        the data lacks) raises ArgumentError, reported as a config error."""
        mc = self.config.model
        keras.utils.set_random_seed(self.config.train.seed)
        try:
            return models.MultiTaskModel(
                tasks=[t.to_config() for t in (tasks or self.tasks)],
                inputs=[i.to_config() for i in self.mixture.inputs],
                architecture=architecture or mc.architecture, encoder=mc.encoder,
                encoder_args=mc.encoder_args, args=mc.args)
        except ValueError as e:  # raised by the architecture or encoder on its arguments
            raise ArgumentError(str(e)) from None

    def make_trainer(self, model, run_dir, verbose=1):
        """The config's trainer for `model` (the experiment's tasks)."""
        return Trainer(model, self.tasks, self.setup, strategy=self.strategy, run_dir=run_dir,
                       is_chief=self.is_chief, verbose=verbose)

    def evaluator(self, model):
        """A trainer that only evaluates `model` (on its own tasks): equal weighting, no
        diagnostics, the config's loss options for those tasks."""
        tasks = tuple(model.tasks)
        names = {t.name for t in tasks}
        train = dataclasses.replace(
            self.config.train, weighting="equal", weighting_args={}, task_weights={},
            monitor="val_loss", diagnostics_per_epoch=0, affinity_per_epoch=0,
            gate_diagnostics=False, gradient_on=None,
            loss_options={k: v for k, v in self.config.train.loss_options.items() if k in names})
        return Trainer(model, tasks, train, strategy=self.strategy, verbose=0)

    # ----------------------------------------------------------------- train
    def train(self, run_dir, resume=False, verbose=1):
        """Trains, evaluates the best model on the test split, writes `metrics.json`.

        `metrics.json`: per task, the test metrics at the best checkpoint (exact AUC),
        `labelled` (test examples with the task's label) and `label_counts` per split;
        `evaluation_validation.json`: the same metrics on the validation split.
        Only the chief writes files; every worker runs the same steps.
        """
        if self.is_chief:
            os.makedirs(run_dir, exist_ok=True)
            save_config(self.config, os.path.join(run_dir, "config.yaml"))
        self.prepare()
        counts = self.label_counts()
        by_source = self.source_label_counts() if self.mixed else None
        if verbose:
            print_label_counts(counts, by_source, self.source_descriptions() if by_source
                               else None)
        with self.strategy.scope():
            model = self.build_model()
        trainer = self.make_trainer(model, run_dir, verbose=verbose)
        train_fn = self.train_fn()
        trainer.fit(train_fn, self.eval_data("validation"), epochs=self.config.train.epochs,
                    resume=resume, epoch_logs=train_fn.epoch_logs)
        best = os.path.join(run_dir, "best.keras")
        if trainer.best_weights is not None:  # every worker holds them, not only the chief
            model.set_weights(trainer.best_weights)
        elif os.path.exists(best):
            model.set_weights(models.load_model(best).get_weights())
        validation = trainer.evaluate(self.eval_data("validation"), exact=True)
        results = trainer.evaluate(self.eval_data("test"), exact=True)
        for task, splits in counts.items():
            results[task]["label_counts"] = splits
            results[task]["primary_metric"], results[task]["higher_is_better"] = self.primary[task]
            if self.config.data.sources:  # which data each figure comes from
                results[task]["sources"] = list(self.mixture.sources_of(task))
        if self.is_chief:
            write_json(os.path.join(run_dir, "evaluation_validation.json"), validation)
            write_json(os.path.join(run_dir, "metrics.json"), results)
        return results


def _concatenate(datasets):
    out = datasets[0]
    for ds in datasets[1:]:
        out = out.concatenate(ds)
    return out


def _count_labels(ds, tasks):
    """{task: {"labelled": n, "examples": n}} over a dataset of (inputs, labels, masks)."""
    totals = {t.name: [0.0, 0] for t in tasks}
    for _, _, masks in pipeline.batch(ds, 4096):
        for t in tasks:
            totals[t.name][0] += float(tf.reduce_sum(masks[t.name]))  # tokens, for token tasks
            totals[t.name][1] += int(masks[t.name].shape[0])
    return {t: {"labelled": int(n), "examples": m} for t, (n, m) in totals.items()}


def print_label_counts(counts, by_source=None, described=None):
    """The labelled examples per task and split (and per source, for a mixture, with what
    each source reads: `described`, {source: text})."""
    print("labels (labelled / examples): " + "; ".join(
        f"{task} " + ", ".join(f"{split} {c['labelled']}/{c['examples']}"
                               for split, c in splits.items())
        for task, splits in counts.items()))
    for source, tasks in (by_source or {}).items():
        read = f" ({described[source]})" if described and source in described else ""
        print(f"  source {source}: " + ", ".join(
            f"{task} {c['labelled']}/{c['examples']} training examples"
            for task, c in tasks.items()) + read)


def primary_metrics(chosen, tasks):
    """{task: (metric, higher_is_better)} for each of `tasks`: `train.primary_metrics`
    (`chosen`), else the kind's default; a task or metric not among them is an error."""
    known = [t.name for t in tasks]
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"train.primary_metrics: unknown task(s) {unknown}; tasks: "
                         f"{', '.join(known)}")
    out = {}
    for task in tasks:
        metric = chosen.get(task.name)
        if metric is None:
            out[task.name] = task.primary_metric
            continue
        valid = ["loss"] + list(task.make_metrics())
        if metric not in valid:
            raise ValueError(f"train.primary_metrics.{task.name}: unknown metric {metric!r}; "
                             f"valid: {', '.join(valid)}")
        out[task.name] = (metric, task.metric_higher_is_better(metric))
    return out


def mark_auxiliary(tasks, names):
    """`tasks` with those named in `data.auxiliary_tasks` marked auxiliary."""
    known = [t.name for t in tasks]
    unknown = sorted(set(names or []) - set(known))
    if unknown:
        raise ValueError(f"data.auxiliary_tasks: {unknown} are not among the tasks trained "
                         f"({', '.join(known)}); add them to data.tasks")
    if names and set(names) == set(known):
        raise ValueError("data.auxiliary_tasks: every task is auxiliary; keep at least one "
                         "main task")
    return tuple(dataclasses.replace(t, auxiliary=True) if t.name in (names or []) else t
                 for t in tasks)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def metric_values(metrics):
    """The float metrics of one task's results (no counts, no nested entries)."""
    return {m: v for m, v in metrics.items() if isinstance(v, float)}


def format_table(results, columns=None, title=None):
    """Per-task metrics as an aligned text table."""
    lines = [title] if title else []
    for task, metrics in results.items():
        cells = "  ".join(f"{m}={v:.4f}" for m, v in metric_values(metrics).items())
        where = f" [{', '.join(metrics['sources'])}]" if metrics.get("sources") else ""
        lines.append(f"  {task:<16} {cells}{where}")
    return "\n".join(lines)
