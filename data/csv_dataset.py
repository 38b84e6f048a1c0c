"""`csv`: your own CSV/TSV file(s) as a multi-task TFDS dataset.

A config names the files, the label columns with their task kinds and
(optionally) the feature columns and their types:

    data:
      name: csv
      tasks: [churned, plan]            # optional subset of the label columns
      options:
        train: examples/customers.csv
        validation: null                # optional file, else a seeded slice of train
        test: null                      # optional file, else a seeded slice of train
        labels: {churned: binary, plan: multiclass, spend: regression, interests: multilabel}
        features: null                  # default: every other column
        feature_types: {zip_code: categorical}
        delimiter: null                 # default: tab for .tsv, else comma
        split: {validation: 0.1, test: 0.1}
        seed: 0

The `MultiTaskCsv` builder (TFDS name `multi_task_csv`) generates the dataset
into `data_dir/multi_task_csv/<file stem>-<fingerprint>/`, where the
fingerprint hashes the options and the files' bytes (editing the CSV makes a
new dataset, never a stale one). The dataset's metadata
(`info.metadata`) keeps the tasks, the inputs with their vocabularies and
statistics, the original column names and where each split came from.

Features are stored raw (numbers with NaN for empty cells, strings with ""),
because imputation, normalisation and vocabulary lookup are layers of the
model (`models/preprocessing.py`), built from the `InputSpec`s computed here
on the training rows: the exported model takes raw column values.

Example:
>>> import data
>>> from data.pipeline import load_split
>>> spec = data.get_dataset("csv", train="examples/customers.csv",
...                         labels={"churned": "binary", "spend": "regression"})
>>> inputs, labels, masks = next(iter(load_split(spec, "train", spec.tasks, "tfds_data", 4)))
>>> sorted(labels)
['churned', 'spend']
"""

import dataclasses
import os

import numpy as np
import tensorflow_datasets as tfds

from data.csv_schema import CsvError, CsvOptions, analyze, identifier
from data.inputs import inputs_to_config
from data.registry import DatasetSpec, register_dataset
from data.tasks import tasks_to_config


class CsvConfig(tfds.core.BuilderConfig):
    """A `multi_task_csv` configuration: the `CsvOptions` and their analysis."""

    def __init__(self, *, options: CsvOptions, table, **kwargs):
        super().__init__(**kwargs)
        self.options = options
        self.table = table


_TABLES = {}  # fingerprint -> CsvTable: the trainer and the exporter ask for the same spec


def make_config(options: CsvOptions) -> CsvConfig:
    """The builder config of `options`, named after the train file and the fingerprint."""
    fingerprint = options.fingerprint()
    if fingerprint not in _TABLES:
        _TABLES[fingerprint] = analyze(options)
    table = _TABLES[fingerprint]
    stem = identifier(os.path.splitext(os.path.basename(options.train))[0])
    return CsvConfig(name=f"{stem}-{fingerprint}", options=options, table=table,
                     description=f"CSV dataset from {options.train}")


class MultiTaskCsv(tfds.core.GeneratorBasedBuilder):
    """A user's CSV/TSV files with per-task labels; see `data.csv_dataset`."""

    VERSION = tfds.core.Version("1.0.0")
    # Configs are made from options (`data.get_dataset("csv", ...)`), never predefined.
    BUILDER_CONFIGS = []

    def _info(self):
        config = self.builder_config
        if config is None:
            raise CsvError("The multi_task_csv builder needs a config made from options: "
                           "data.get_dataset('csv', train=..., labels={...})")
        table = config.table
        features = {}
        for spec in table.inputs:
            features[spec.name] = (tfds.features.Tensor(shape=(), dtype=np.float32)
                                   if spec.kind == "numeric" else tfds.features.Text())
        for task in table.tasks:
            features[task.name] = tfds.features.Tensor(shape=task.label_shape,
                                                       dtype=np.dtype(task.label_dtype))
        metadata = tfds.core.MetadataDict(
            tasks=tasks_to_config(table.tasks), inputs=inputs_to_config(table.inputs),
            columns=dict(table.columns), sources=dict(table.sources),
            options={k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in dataclasses.asdict(config.options).items()})
        return tfds.core.DatasetInfo(builder=self, description=__doc__,
            # Keep generation (file) order; the pipeline shuffles with its own seed.
            disable_shuffling=True,
                                     features=tfds.features.FeaturesDict(features),
                                     metadata=metadata)

    def _split_generators(self, dl_manager):
        rows = self.builder_config.table.rows
        return {split: self._generate_examples(rows[split]) for split in rows if rows[split]}

    def _generate_examples(self, rows):
        for i, row in enumerate(rows):
            yield i, row


def _as_tuple(value):
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@register_dataset("csv")
def csv_dataset(train: str, labels: dict, validation: str = None, test: str = None,
                features=None, feature_types: dict = None, delimiter: str = None,
                split: dict = None, seed: int = 0, na_values=None, min_frequency: int = 1,
                multilabel_separator: str = "|", multilabel_none: str = "none"):
    """Spec of a CSV dataset; options as in `data.csv_schema.CsvOptions`."""
    kwargs = dict(train=os.path.abspath(train), labels=labels,
                  validation=os.path.abspath(validation) if validation else None,
                  test=os.path.abspath(test) if test else None,
                  features=_as_tuple(features), feature_types=dict(feature_types or {}),
                  delimiter=delimiter, seed=int(seed), min_frequency=int(min_frequency),
                  multilabel_separator=multilabel_separator, multilabel_none=multilabel_none)
    if split is not None:
        kwargs["split"] = dict(split)
    if na_values is not None:
        kwargs["na_values"] = _as_tuple(na_values)
    options = CsvOptions(**kwargs)
    config = make_config(options)
    table = config.table
    splits = {s: s for s in ("train", "validation", "test") if table.rows.get(s)}
    return DatasetSpec(name="csv", tfds_name="multi_task_csv", tasks=table.tasks,
                       inputs=table.inputs, splits=splits, builder_kwargs={"config": config},
                       description=f"CSV dataset from {options.train}")

