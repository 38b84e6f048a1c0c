"""`TaggedText` (TFDS name `tagged_text`): the sentences of tagged column files, built offline.

Each example: `tokens` (the sentence's tokens) and, per task, its tag ids (`int64`, one per
token; -1 where the tag is outside the task's tag set, a masked label). Generated sentence by
sentence from the files (`data.tagged.reader`), split as the analysis split them
(`data.tagged.splits`); the config's name carries the options' fingerprint, so editing a file
builds a new dataset, never a stale one. The build prints the schema report (stderr) and
keeps it in `info.metadata`.

Example:
>>> from data.tagged.builder import TaggedText
>>> TaggedText.name
'tagged_text'
"""

import sys

import numpy as np
import tensorflow_datasets as tfds

from data.offline_builder import OfflineBuilder
from data.tagged.options import TaggedError
from data.tagged.reader import TaggedFile
from data.tagged.splits import sentence_splits
from tasks import tasks_to_config

SPLITS = ("train", "validation", "test")


class TaggedConfig(tfds.core.BuilderConfig):
    """A `tagged_text` configuration: the `TaggedOptions` and their `TaggedSchema`."""

    def __init__(self, *, options, schema, **kwargs):
        super().__init__(**kwargs)
        self.options = options
        self.schema = schema


class TaggedText(OfflineBuilder):
    """Sentences of tagged column files with a tag sequence per task (`data.tagged`)."""

    VERSION = tfds.core.Version("1.0.0")
    # Configs are made from options (`data.get_dataset("conll", ...)`), never predefined.
    BUILDER_CONFIGS = []

    def _info(self):
        config = self.builder_config
        if config is None:
            raise TaggedError("The tagged_text builder needs a config made from options: "
                              "data.get_dataset('conll', train=..., tasks={...})")
        features = {"tokens": tfds.features.Sequence(tfds.features.Text())}
        for task in config.schema.tasks:
            features[task.name] = tfds.features.Sequence(np.int64)
        return tfds.core.DatasetInfo(
            builder=self, description=__doc__, features=tfds.features.FeaturesDict(features),
            disable_shuffling=True,  # file order; the pipeline shuffles with its own seed
            metadata=tfds.core.MetadataDict(
                tasks=tasks_to_config(config.schema.tasks), rows=dict(config.schema.rows),
                sources=dict(config.schema.sources), report=config.schema.format(),
                options=config.options.to_config()))

    def _split_generators(self, dl_manager):
        schema = self.builder_config.schema
        print(f"Tagged files of {self.builder_config.name} (also in info.metadata):\n"
              f"{schema.format()}", file=sys.stderr, flush=True)
        return {split: self._generate_examples(split) for split in SPLITS if schema.rows[split]}

    def _generate_examples(self, target):
        options, tasks = self.builder_config.options, self.builder_config.schema.tasks
        index = {t.name: {tag: i for i, tag in enumerate(t.classes)} for t in tasks}
        column = {t.name: t.column for t in options.task_specs}
        for split in ("train", target) if target != "train" else ("train",):
            for f, path in enumerate(options.files_of(split)):
                splits = sentence_splits(options, split, path)
                for i, sentence in enumerate(TaggedFile(path, options).sentences()):
                    if splits(i) != target:
                        continue
                    example = {"tokens": list(sentence.tokens)}
                    for task in tasks:
                        tags = sentence.tags[column[task.name]]
                        example[task.name] = np.array([index[task.name].get(t, -1)
                                                       for t in tags], np.int64)
                    yield f"{split}-{f}-{i}", example
