"""Mixtures: tasks whose labels live in different datasets, trained as one stream.

A `Source` is one dataset the zoo can read (a registered builder with its options, a CSV
file set, a tagged corpus), a slice of that dataset's own training split (`data.slices`:
never its validation or test examples), and the tasks it feeds — under their own names or
renamed, so two sources may feed one task. A `Mixture` is its sources; every source gives
the model the same inputs. Each source's examples carry labels for its own tasks and a 0
mask for every other task of the mixture, exactly as a missing label is masked in one
dataset, so every architecture, loss and weighting method sees what it sees today.

Training streams (`train_batches`) draw from the sources with a sampling strategy
(`data/sampling.py`) in one of three batch compositions: `mixed` (each example drawn
from a source), `per_source` (each step's batch from one drawn source) or `round` (each
step one batch from every source, joined). Sources stream: each is shuffled with a
buffer and repeated, never materialised unless its dataset caches in memory. An epoch
is a fixed number of steps; the draws of epoch e depend only on the seed and e, so a
resumed run continues the sampler where it stopped, and the proportions each epoch
realised are known exactly.

Evaluation (`eval_examples`) reads each task on its own source's validation or test
split: sources that read the same dataset share one copy of a split (labelled for all
their tasks), others are concatenated, each labelled only for its own tasks.

Example:
>>> import data
>>> from data.mixture import Source, Mixture
>>> mnist = Source.of("mnist", data.get_dataset("mnist_digits"), {"digit": "mnist"})
>>> uci = Source.of("uci", data.get_dataset("uci_digits"), {"digit": "uci"})
>>> mixture = Mixture((mnist, uci))
>>> [t.name for t in mixture.tasks], mixture.sources_of("uci")
(['mnist', 'uci'], ('uci',))
"""

import dataclasses
import json
from typing import Optional, Tuple

import numpy as np

from data import sampling, slices
from data.dataset_spec import DatasetSpec
from inputs import InputSpec
from tasks import Task
from utils.arguments import Arg, Declaration

# One entry of `data.sources`: checked when the config loads (`training/arguments.py`).
SOURCE = Declaration({
    "name": Arg(str, "the source's name in metrics, logs and sampling weights (default: the "
                "dataset's, numbered when two sources read one dataset)", null=True,
                default=None),
    "dataset": Arg(str, "a registered dataset (`python train.py --list`)"),
    "options": Arg(dict, "the dataset's options, as data.options", default={}),
    "tasks": Arg((list, dict), "the dataset's tasks this source labels: a list, or "
                 "{dataset task: model task} to rename them (two sources may feed one task); "
                 "null: all", item=str, null=True, default=None),
    "split": Arg(str, "the part of the dataset's own training split read: train (all of it) or "
                 "a TFDS slice of it (train[:500], train[500:], train[:10%]), never its "
                 "validation or test examples", default="train"),
    "cache": Arg(bool, "keep decoded examples in memory (null: the dataset's default; false "
                 "streams a large source)", null=True, default=None),
})


@dataclasses.dataclass(frozen=True)
class Source:
    """One dataset of a mixture and the tasks it labels.

    Args:
        name: str. Unique within the mixture; named in metrics, logs and errors.
        spec: `DatasetSpec`. The dataset read.
        tasks: tuple of `Task`. The mixture's tasks this source labels, under their
            mixture names; each `label_key` points at the dataset's feature.
        train_split: str. The part of the dataset's own training split read: `train`
            (all of it) or a slice of it (`train[:500]`, `train[10%:]`), relative to
            `spec.splits["train"]` (`tfds_split` composes the TFDS split read).
        key: str. Identifies the dataset and options read, so sources reading the same
            data share one copy of its evaluation splits.
        cache: bool or None. Keep decoded examples in memory (None: the dataset's default).
    """

    name: str
    spec: DatasetSpec
    tasks: Tuple[Task, ...]
    train_split: str = "train"
    key: str = ""
    cache: Optional[bool] = None

    @classmethod
    def of(cls, name, spec, tasks=None, train_split="train", options=None, cache=None):
        """A source of `spec` labelling `tasks`: dataset task names (a list), a mapping
        {dataset task: mixture task} that renames them, or None for all of them."""
        if tasks is None:
            tasks = [t.name for t in spec.tasks]
        mapping = dict(tasks) if isinstance(tasks, dict) else {t: t for t in tasks}
        own = []
        for dataset_task, mixture_task in mapping.items():
            task = spec.task(dataset_task)
            own.append(dataclasses.replace(task, name=mixture_task, label_key=task.label_key))
        key = json.dumps([spec.name, options or {}], sort_keys=True, default=str)
        return cls(name=name, spec=spec, tasks=tuple(own), train_split=train_split, key=key,
                   cache=cache)

    def tfds_split(self, split, lengths):
        """The TFDS split string read for `train`, `validation` or `test`: for `train`, this
        source's slice taken inside the dataset's training split (`data.slices.compose`;
        `lengths`: the built dataset's `info.splits`), ValueError when it does not fit.

        >>> spec = DatasetSpec("toy", "toy", (Task("a", "binary"),), (InputSpec("x", "numeric"),),
        ...                    splits={"train": "train[:800]", "validation": "train[800:]",
        ...                            "test": "test"})
        >>> rest = Source.of("rest", spec, train_split="train[500:]")
        >>> rest.tfds_split("train", {"train": 1000, "test": 100}), rest.tfds_split("test", {})
        ('train[500:800]', 'test')
        >>> rest.describe({"train": 1000, "test": 100})
        'toy train[500:] = TFDS train[500:800]'
        """
        if split != "train":
            return self.spec.splits[split]
        return slices.compose(self.spec.splits["train"], self.train_split, lengths)

    def describe(self, lengths=None):
        """`dataset slice` for messages and reports, with the TFDS split read where it is
        spelled otherwise (`conll2000 train[500:] = TFDS train[500:8042]`); a slice that
        does not fit is `Experiment.prepare`'s error to report, not this one's."""
        text = f"{self.spec.name} {self.train_split}"
        try:
            read = self.tfds_split("train", lengths) if lengths is not None else None
        except ValueError:
            read = None
        return text if read in (None, self.train_split) else f"{text} = TFDS {read}"

    def task_names(self):
        return tuple(t.name for t in self.tasks)


def input_difference(a: InputSpec, b: InputSpec):
    """What differs between two inputs that must be the same (name, kind, shape, dtype);
    None when nothing does."""
    for field in ("kind", "shape", "dtype"):
        if getattr(a, field) != getattr(b, field):
            return f"{field} {getattr(a, field)!r} vs {getattr(b, field)!r}"
    return None


@dataclasses.dataclass(frozen=True)
class Mixture:
    """The sources of one training run; a plain dataset is a mixture of one."""

    sources: Tuple[Source, ...]

    def __post_init__(self):
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"data.sources: source names must differ; got {names}")
        self.check_inputs()
        self.check_tasks()

    def check_inputs(self):
        first = self.sources[0]
        want = {i.name: i for i in first.spec.inputs}
        for source in self.sources[1:]:
            have = {i.name: i for i in source.spec.inputs}
            if set(have) != set(want):
                raise ValueError(
                    f"data.sources: sources {first.name!r} and {source.name!r} give different "
                    f"inputs: {sorted(want)} vs {sorted(have)}; every source must give the model "
                    "the same inputs")
            for name, spec in want.items():
                diff = input_difference(spec, have[name])
                if diff:
                    raise ValueError(f"data.sources: input {name!r} differs between sources "
                                     f"{first.name!r} and {source.name!r}: {diff}")

    def check_tasks(self):
        """A task fed by two sources must be the same question (kind and classes)."""
        seen = {}
        for source in self.sources:
            for task in source.tasks:
                if task.name in seen:
                    other, first = seen[task.name]
                    if (type(task), task.classes) != (type(first), first.classes):
                        raise ValueError(
                            f"data.sources: task {task.name!r} is {first.kind} with classes "
                            f"{list(first.classes)} in source {other!r} but {task.kind} with "
                            f"classes {list(task.classes)} in {source.name!r}")
                else:
                    seen[task.name] = (source.name, task)

    @classmethod
    def from_config(cls, data_config, get_dataset):
        """The mixture of a `data:` section: its `sources`, or `name`/`options` as a mixture
        of one. `get_dataset(name, **options)` makes a `DatasetSpec`."""
        if not data_config.sources:
            spec = get_dataset(data_config.name, **data_config.options)
            return cls((Source.of(spec.name, spec, options=data_config.options),))
        sources, names = [], source_names(data_config.sources)
        for i, (entry, name) in enumerate(zip(data_config.sources, names)):
            where = f"data.sources[{i}]"
            try:
                spec = get_dataset(entry["dataset"], **entry.get("options", {}))
            except ValueError as e:
                raise ValueError(in_source(str(e), i)) from None
            try:
                sources.append(Source.of(name, spec, entry.get("tasks"),
                                         train_split=entry.get("split", "train"),
                                         options=entry.get("options"), cache=entry.get("cache")))
            except KeyError as e:
                raise ValueError(f"{where}.tasks: {e.args[0]}") from None
        return cls(tuple(sources))

    @property
    def tasks(self):
        """Every task, in the order the sources name them (each once)."""
        out = {}
        for source in self.sources:
            for task in source.tasks:
                out.setdefault(task.name, task)
        return tuple(out.values())

    @property
    def inputs(self):
        """The model's inputs: the first source's (preprocessing statistics included)."""
        return self.sources[0].spec.inputs

    def sources_of(self, task_name):
        """Names of the sources that label `task_name`."""
        return tuple(s.name for s in self.sources if task_name in s.task_names())

    def restricted(self, task_names):
        """The mixture of the sources labelling any of `task_names`, each labelling only
        those (a single-task baseline trains on its task's own sources)."""
        kept = []
        for source in self.sources:
            tasks = tuple(t for t in source.tasks if t.name in task_names)
            if tasks:
                kept.append(dataclasses.replace(source, tasks=tasks))
        return Mixture(tuple(kept))


def source_names(entries):
    """Each `data.sources` entry's name: its `name`, else its dataset's (numbered `_2`, `_3`
    ... when several sources read one dataset)."""
    datasets = [e["dataset"] for e in entries]
    seen, names = {}, []
    for entry in entries:
        if entry.get("name"):
            names.append(entry["name"])
            continue
        dataset = entry["dataset"]
        seen[dataset] = seen.get(dataset, 0) + 1
        names.append(dataset if datasets.count(dataset) == 1 else f"{dataset}_{seen[dataset]}")
    return names


# ------------------------------------------------------------------ examples
def _placeholders(tasks):
    """Per task: the encoded label and 0 mask of an example that lacks it."""
    import tensorflow as tf

    out = {}
    for task in tasks:
        label, mask = task.encode_label(tf.constant(task.missing_label()))
        out[task.name] = (label, mask * 0.0)
    return out


def in_source(message, i):
    """A dataset's error message with its `data.options` keys named as source i's.

    >>> in_source("data.options.train: 'x.csv' names no file", 1)
    "data.sources[1].options.train: 'x.csv' names no file"
    """
    return message.replace("data.options", f"data.sources[{i}].options")


def source_examples(source, split, tasks, data_dir, take=None):
    """Unbatched (inputs, labels, masks) of one source's split, labelled for the source's
    own tasks among `tasks` and masked (0) for the others, in file order."""
    from data import pipeline

    own = [t for t in source.tasks if t.name in {u.name for u in tasks}]
    b = pipeline.prepare(source.spec, data_dir)
    ds = b.as_dataset(split=source.tfds_split(split, b.info.splits), shuffle_files=False)
    if take:
        ds = ds.take(int(take))
    example_fn = pipeline.make_example_fn(source.spec, own)
    missing = [t for t in tasks if t.name not in {u.name for u in own}]

    def fn(example):
        inputs, labels, masks = example_fn(example)
        for name, (label, mask) in _placeholders(missing).items():
            labels[name], masks[name] = label, mask
        return inputs, labels, masks

    ds = ds.map(fn, num_parallel_calls=pipeline.AUTOTUNE, deterministic=True)
    cache = source.spec.cache if source.cache is None else source.cache
    return ds.cache() if cache else ds


def built_splits(spec, data_dir):
    """The split infos of `spec`'s dataset where it is built in `data_dir`, else None
    (builds nothing: for messages and reports)."""
    from data import pipeline

    if spec.prepare is not None:
        return None
    b = pipeline.builder(spec, data_dir)
    return b.info.splits if b.is_prepared() else None


def train_sizes(mixture, data_dir, take=None):
    """Training examples per source (after `take`), from the built datasets' split info."""
    from data import pipeline

    sizes = []
    for source in mixture.sources:
        splits = pipeline.prepare(source.spec, data_dir).info.splits
        n = int(splits[source.tfds_split("train", splits)].num_examples)
        sizes.append(min(n, int(take)) if take else n)
    return sizes


def eval_examples(mixture, split, tasks, data_dir, take=None):
    """One split of every source, each task labelled on its own sources only: sources that
    read the same dataset share one copy of the split."""
    groups = {}
    for source in mixture.sources:
        groups.setdefault(source.key, []).append(source)
    parts = []
    for members in groups.values():
        merged = dataclasses.replace(members[0], tasks=tuple(
            t for s in members for t in s.tasks))
        parts.append(source_examples(merged, split, tasks, data_dir, take=take))
    ds = parts[0]
    for part in parts[1:]:
        ds = ds.concatenate(part)
    return ds


# ------------------------------------------------------------------ training
@dataclasses.dataclass(frozen=True)
class Sampling:
    """How the training stream draws from the sources (`data.sampling`; the keys and their
    meaning: `data.sampling.SAMPLING`)."""

    strategy: str = "proportional"
    temperature: float = 2.0
    weights: Optional[dict] = None
    batches: str = "mixed"
    steps_per_epoch: Optional[int] = None

    def check(self, mixture, uses_gradients):
        """What needs the sources and the method: weights for every source, and no
        `per_source` batches under a gradient method; ValueError naming the key."""
        names = [s.name for s in mixture.sources]
        if self.strategy == "weights":
            missing = [n for n in names if n not in (self.weights or {})]
            if missing:
                raise ValueError(f"data.sampling.weights: no weight for source(s) {missing}; "
                                 f"sources: {', '.join(names)}")
        unknown = sorted(set(self.weights or {}) - set(names))
        if unknown:
            raise ValueError(f"data.sampling.weights: unknown source(s) {unknown}; sources: "
                             f"{', '.join(names)}")
        if self.batches == "per_source" and uses_gradients and len(names) > 1:
            raise ValueError("data.sampling.batches: per_source batches hold one source's tasks, "
                             "but a gradient-balancing method needs every task's loss in each "
                             "step; valid with it: mixed, round")


def epoch_plan(mixture, sizes, sampling_config, batch_size, seed, epoch, epochs):
    """(steps, source ids to draw, probabilities) of one epoch.

    `mixed` draws one source per example, `per_source` one per step; `round` draws
    nothing (every step takes a batch from every source)."""
    s = sampling_config
    weights = None
    if s.strategy == "weights":
        weights = [float((s.weights or {}).get(src.name, -1)) for src in mixture.sources]
    probs = sampling.probabilities(sizes, s.strategy, temperature=s.temperature,
                                   weights=weights, epoch=epoch, epochs=epochs)
    steps = s.steps_per_epoch or sampling.steps_per_epoch(sizes, batch_size, s.batches)
    if s.batches == "round":
        return steps, None, probs
    count = steps * batch_size if s.batches == "mixed" else steps
    return steps, sampling.draws(probs, count, seed, epoch), probs


def realised_proportions(mixture, ids, steps, batch_size, batches):
    """{source: fraction of the epoch's examples} an epoch plan realises."""
    n = len(mixture.sources)
    if batches == "round":
        fractions = np.full(n, 1.0 / n)
    else:
        fractions = sampling.realised(ids, n)
    return {s.name: float(f) for s, f in zip(mixture.sources, fractions)}


def training_examples(mixture, tasks, data_dir, take=None):
    """Per source: its training examples for `tasks`, built once for the whole run (a source
    that caches decodes its examples in the first epoch only)."""
    return [source_examples(s, "train", tasks, data_dir, take=take) for s in mixture.sources]


def _streams(examples, seed, epoch, shuffle_buffer):
    """Per source: its examples shuffled for this epoch and repeated (endless)."""
    return [ds.shuffle(shuffle_buffer, seed=int(seed) * 1000 + epoch * 31 + i).repeat()
            for i, ds in enumerate(examples)]


def _concatenate_padded(*batches):
    """Batches of the same structure joined along axis 0, each part padded to the longest
    along its other axes ("" for strings, 0 for numbers: where masks are 0)."""
    import tensorflow as tf

    def join(*parts):
        if parts[0].shape.rank <= 1:
            return tf.concat(parts, axis=0)
        widest = tf.reduce_max(tf.stack([tf.shape(p)[1:] for p in parts]), axis=0)
        padded = []
        for p in parts:
            extra = widest - tf.shape(p)[1:]
            pads = tf.concat([[[0, 0]], tf.stack([tf.zeros_like(extra), extra], axis=1)], 0)
            padded.append(tf.pad(p, pads))
        return tf.concat(padded, axis=0)

    return tf.nest.map_structure(join, *batches)


def train_batches(mixture, examples, sizes, sampling_config, batch_size, seed, epoch, epochs,
                  shuffle_buffer=10000):
    """One epoch of training batches and the proportions of sources it realises.

    Args:
        mixture: `Mixture`.
        examples: list. Per source, its training examples (`training_examples`).
        sizes: list of int. Per source, its training examples' count (`train_sizes`).
        sampling_config: `Sampling`.

    Returns (dataset of (inputs, labels, masks) batches, {source: fraction})."""
    import tensorflow as tf
    from data import pipeline

    steps, ids, _ = epoch_plan(mixture, sizes, sampling_config, batch_size, seed, epoch, epochs)
    streams = _streams(examples, seed, epoch, shuffle_buffer)
    batches = sampling_config.batches
    if batches == "mixed":
        chosen = tf.data.Dataset.choose_from_datasets(
            streams, tf.data.Dataset.from_tensor_slices(ids.astype(np.int64)))
        ds = pipeline.group_batches(chosen, batch_size, bucket=True).take(steps)
    elif batches == "per_source":
        batched = [pipeline.group_batches(s, batch_size, bucket=True) for s in streams]
        # `take`: one batch per drawn id, and a known length (the streams are endless, so
        # without it the epoch reads as infinite: no progress target, no sampled diagnostics).
        ds = tf.data.Dataset.choose_from_datasets(
            batched, tf.data.Dataset.from_tensor_slices(ids.astype(np.int64))).take(steps)
    else:
        batched = [pipeline.group_batches(s, batch_size, bucket=True) for s in streams]
        ds = tf.data.Dataset.zip(tuple(batched)).map(
            _concatenate_padded, num_parallel_calls=pipeline.AUTOTUNE).take(steps)
    realised = realised_proportions(mixture, ids, steps, batch_size, batches)
    return ds.prefetch(pipeline.AUTOTUNE), realised
