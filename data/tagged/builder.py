"""`TaggedText` (TFDS name `tagged_text`): the sentences of tagged column files, built offline.

Each example: `tokens` (the sentence's tokens) and, per task, its tag ids (`int64`, one per
token; -1 where the tag is outside the task's tag set, a masked label). Generated sentence by
sentence from the files (`data.tagged.reader`), split as the analysis split them
(`data.tagged.splits`); the config's name carries the options' fingerprint, so editing a file
builds a new dataset, never a stale one. The build prints the schema report (stderr) and
keeps it in `info.metadata`.

With Beam pipeline options or a runner (`python build_data.py --beam_pipeline_options ...`,
or `download_and_prepare(download_config=tfds.download.DownloadConfig(beam_options=...))`)
the files are read as an Apache Beam pipeline instead (`data.tagged.beam`: files cut into
ranges at blank lines, each parsed by this reader in a worker), with the same examples in
the same order.

Example:
>>> from data.tagged.builder import TaggedText
>>> TaggedText.name
'tagged_text'
"""

import sys

import tensorflow_datasets as tfds

from data.offline_builder import OfflineBuilder
from data.tagged import beam
from data.tagged.examples import SentenceExamples, features
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
    # Builds as an Apache Beam pipeline too (`data.tagged.beam`; build_data.py
    # --beam_pipeline_options).
    BEAM = True

    def _info(self):
        config = self.builder_config
        if config is None:
            raise TaggedError("The tagged_text builder needs a config made from options: "
                              "data.get_dataset('conll', train=..., tasks={...})")
        return tfds.core.DatasetInfo(
            builder=self, description=__doc__,
            features=features([t.name for t in config.schema.tasks]),
            disable_shuffling=True,  # file order; the pipeline shuffles with its own seed
            metadata=tfds.core.MetadataDict(
                tasks=tasks_to_config(config.schema.tasks), rows=dict(config.schema.rows),
                sources=dict(config.schema.sources), report=config.schema.format(),
                options=config.options.to_config()))

    def _download_and_prepare(self, dl_manager, download_config):
        if download_config.beam_runner is not None or download_config.beam_options is not None:
            self._report()
            self.info.set_splits(beam.build(self, download_config.beam_runner,
                                            download_config.beam_options))
            return
        super()._download_and_prepare(dl_manager, download_config)

    def _report(self):
        print(f"Tagged files of {self.builder_config.name} (also in info.metadata):\n"
              f"{self.builder_config.schema.format()}", file=sys.stderr, flush=True)

    def _split_generators(self, dl_manager):
        self._report()
        schema = self.builder_config.schema
        return {split: self._generate_examples(split) for split in SPLITS if schema.rows[split]}

    def _generate_examples(self, target):
        options = self.builder_config.options
        example = SentenceExamples(options, self.builder_config.schema.tasks)
        for split in ("train", target) if target != "train" else ("train",):
            for f, path in enumerate(options.files_of(split)):
                splits = sentence_splits(options, split, path)
                for i, sentence in enumerate(TaggedFile(path, options).sentences()):
                    if splits(i) == target:
                        yield f"{split}-{f}-{i}", example(sentence)
