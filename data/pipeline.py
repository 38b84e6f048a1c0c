"""`tf.data` pipelines: TFDS split -> batches of (inputs, labels, masks).

Every batch is a triple of dicts keyed by input name (inputs) and task name
(labels, masks). A mask is 1.0 where the example carries that task's label and
0.0 where it is missing; missing labels are replaced by a harmless value so
losses stay finite, and the mask removes them from losses and metrics. How a
label is encoded belongs to its task's kind (`task.encode_label`,
`tasks/`): multiclass `[]` int64, binary and regression `[1]`
float32, multilabel `[num_labels]` float32; masks are float32 scalars, except for
token tasks (`token_multiclass`: `[tokens]` int64 labels, a `[tokens]` mask).

Example:
>>> import data
>>> from data.pipeline import load_split
>>> spec = data.get_dataset("multi_mnist")
>>> ds = load_split(spec, "test", spec.tasks, data_dir="tfds_data", batch_size=32)
>>> inputs, labels, masks = next(iter(ds))
>>> inputs["image"].shape, labels["left"].shape, masks["same_digit"].shape
(TensorShape([32, 28, 28, 1]), TensorShape([32]), TensorShape([32]))
"""

import contextlib
import fcntl
import os

import tensorflow as tf
import tensorflow_datasets as tfds

AUTOTUNE = tf.data.AUTOTUNE


def builder(spec, data_dir):
    """The TFDS builder of `spec` (its dataset need not be prepared yet)."""
    return tfds.builder(spec.tfds_name, data_dir=data_dir, **(spec.builder_kwargs or {}))


def prepare(spec, data_dir):
    """Builds the dataset under `data_dir` if it is not there yet; returns the builder.

    Our own builders generate offline; catalogue datasets download (which needs
    internet access) unless they are already prepared in `data_dir`.
    """
    b = None if spec.prepare is not None else builder(spec, data_dir)
    if b is not None and b.is_prepared():
        return b
    # Processes building the same dataset at once (a study's parallel runs) would race
    # on TFDS's rename of the finished folder: build under a lock, then look again.
    with _prepare_lock(data_dir):
        if spec.prepare is not None:
            return spec.prepare(data_dir)
        b = builder(spec, data_dir)
        if not b.is_prepared():
            b.download_and_prepare()
    return b


@contextlib.contextmanager
def _prepare_lock(data_dir):
    """An exclusive lock on `data_dir` across processes (held while building)."""
    if "://" in str(data_dir):  # a remote store: no local lock file to hold
        yield
        return
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, ".prepare.lock"), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _lookup(example, path):
    value = example
    for part in path.split("/"):
        value = value[part]
    return value


def make_example_fn(spec, tasks):
    """Maps one raw TFDS example to (inputs, labels, masks)."""

    def fn(example):
        if spec.preprocess is not None:
            example = spec.preprocess(example)
        inputs = {i.name: _lookup(example, i.name) for i in spec.inputs}
        labels, masks = {}, {}
        for task in tasks:
            labels[task.name], masks[task.name] = task.encode_label(_lookup(example, task.label_key))
        return inputs, labels, masks

    return fn


def split_name(spec, split):
    """TFDS split string for one of `train`, `validation`, `test` (or a raw TFDS split
    such as `train[:10%]`)."""
    if split in spec.splits:
        return spec.splits[split]
    if "[" in split or "+" in split:
        return split
    raise ValueError(f"split {split!r} is not one of {spec.name!r}'s splits: "
                     f"{', '.join(spec.splits)} (or a TFDS split string like 'train[:10%]')")


def load_examples(spec, split, tasks, data_dir, take=None, cache=None):
    """Unbatched (inputs, labels, masks) examples of one split, in file order.

    Builds the dataset first when it is missing (see `prepare`). `cache`
    defaults to `spec.cache`: decoded examples are kept in memory after the
    first pass, so later epochs cost only shuffling and batching.
    """
    b = prepare(spec, data_dir)
    ds = b.as_dataset(split=split_name(spec, split), shuffle_files=False)
    if take:
        # Before the map, so a small `take` does not decode the whole split.
        ds = ds.take(int(take))
    ds = ds.map(make_example_fn(spec, tasks), num_parallel_calls=AUTOTUNE, deterministic=True)
    if spec.cache if cache is None else cache:
        ds = ds.cache()
    return ds


# Upper bounds (exclusive) of the length buckets of shuffled variable-length examples.
LENGTH_BUCKETS = (8, 12, 16, 20, 24, 28, 32, 40, 48, 64, 96, 128)


def _length(*element):
    """An example's length: the longest first dimension among its variable-length parts."""
    sizes = [tf.shape(x)[0] for x in tf.nest.flatten(element) if None in x.shape[:1]]
    return tf.reduce_max(tf.stack(sizes))


def batch(ds, batch_size, shuffle_seed=None, shuffle_buffer=10000, drop_remainder=False,
          reshuffle_each_iteration=True):
    """Shuffles (when `shuffle_seed` is given, deterministically), batches and prefetches.

    Examples of varying length (the tokens and per-token labels of a sentence) are
    padded to the longest of their batch: strings with "", numbers with 0, so the
    padded tokens' masks are 0 and nothing padded reaches a loss or metric. When
    shuffled (training), they are batched with others of similar length
    (`LENGTH_BUCKETS`): random CoNLL-2000 batches of 32 are about half padding, which a
    BiLSTM pays for step by step.

    With a seed, the order of every epoch is fixed by the seed: epoch k is the
    same permutation in every run (and a different one from epoch k+1 unless
    `reshuffle_each_iteration=False`).
    """
    if shuffle_seed is not None:
        ds = ds.shuffle(shuffle_buffer, seed=int(shuffle_seed),
                        reshuffle_each_iteration=reshuffle_each_iteration)
    return group_batches(ds, batch_size, bucket=shuffle_seed is not None,
                         drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def group_batches(ds, batch_size, bucket=False, drop_remainder=False):
    """Batches examples; those of varying length are padded to the longest of their batch
    and, with `bucket`, batched with others of similar length (`LENGTH_BUCKETS`)."""
    if not any(None in spec.shape for spec in tf.nest.flatten(ds.element_spec)):
        return ds.batch(batch_size, drop_remainder=drop_remainder)
    if bucket:
        return ds.bucket_by_sequence_length(
            _length, LENGTH_BUCKETS, [batch_size] * (len(LENGTH_BUCKETS) + 1),
            drop_remainder=drop_remainder)
    return ds.padded_batch(batch_size, drop_remainder=drop_remainder)


def load_split(spec, split, tasks, data_dir, batch_size, shuffle_seed=None, take=None,
               shuffle_buffer=10000, drop_remainder=False, cache=None,
               reshuffle_each_iteration=True):
    """One split as batches of (inputs, labels, masks).

    Args:
        spec: `DatasetSpec`. From `data.get_dataset(name, **options)`.
        split: str. `train`, `validation`, `test`, or a TFDS split string.
        tasks: tuple of `Task` (or names). The tasks to label; see `select_tasks`.
        data_dir: str. TFDS data directory (our builders generate into it).
        batch_size: int. Examples per batch.
        shuffle_seed: int or None. Seeded shuffling; None keeps file order.
        take: int or None. Only the first `take` examples.
    """
    if tasks and isinstance(next(iter(tasks)), str):
        from tasks import select_tasks
        tasks = select_tasks(spec.tasks, list(tasks), spec.name)
    ds = load_examples(spec, split, tasks, data_dir, take=take, cache=cache)
    return batch(ds, batch_size, shuffle_seed, shuffle_buffer, drop_remainder,
                 reshuffle_each_iteration)


def default_data_dir():
    """`$TFDS_DATA_DIR` or `tfds_data/` in the working directory (kept out of ~)."""
    return os.environ.get("TFDS_DATA_DIR", "tfds_data")
