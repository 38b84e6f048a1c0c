"""`OfflineBuilder`: the base of our TFDS builders, which generate from local sources.

TFDS prints "Downloading and preparing dataset ..." and "... downloaded and prepared"
to stdout whenever a builder prepares, a message meant for real downloads. Our
builders download nothing (they generate from numpy, a package's files or the user's
CSV files), so they say it on the log (stderr) instead, and standard output stays
the program's own (a doctest's, a pipe's).

A dataset generated from a frozen dataclass of parameters (`mmoe_synthetic`,
`conversion_funnel`, `multi_attribute_shapes`) takes a `ParamsConfig`, describes itself
with `generated_info` (its tasks and parameters in the metadata, examples in file order)
and gives its factory's `DatasetSpec` the `tfds_source` of its config.

Example:
>>> from data.offline_builder import OfflineBuilder
>>> import tensorflow_datasets as tfds
>>> issubclass(OfflineBuilder, tfds.core.GeneratorBasedBuilder)
True
>>> from data.mmoe_synthetic import MmoeSynthetic, MmoeParams, make_config
>>> MmoeSynthetic.tfds_source(make_config(MmoeParams(correlation=0.9)))
{'tfds_name': 'mmoe_synthetic/p0.9', 'builder_kwargs': None}
>>> source = MmoeSynthetic.tfds_source(make_config(MmoeParams(dim=4)))
>>> source["tfds_name"], source["builder_kwargs"]["config"].name
('mmoe_synthetic', 'p0.5-d4-c1-m10-a1-n10000.1000.1000-seed0')
"""

import dataclasses
import logging

import tensorflow_datasets as tfds

from tasks import tasks_to_config

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")  # the splits a generated dataset writes, in order


class ParamsConfig(tfds.core.BuilderConfig):
    """A configuration of a generated dataset: `params`, a frozen dataclass of what it is
    generated from (sizes, rates, seed...)."""

    def __init__(self, *, params, **kwargs):
        super().__init__(**kwargs)
        self.params = params


class OfflineBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A `GeneratorBasedBuilder` that reports preparing on the log, not on stdout."""

    def _log_download_bytes(self):
        log.info("preparing %s (%s) in %s", self.name, self.builder_config_name or "-",
                 self.data_dir)

    def _log_download_done(self):
        log.info("prepared %s in %s", self.name, self.data_dir)

    def generated_info(self, description, features, tasks, citation=None, **metadata):
        """The `DatasetInfo` of a dataset generated from a `ParamsConfig`: `features` (a
        dict), and `tasks`, the config's parameters and any other `metadata` (JSON values)
        in its metadata."""
        return tfds.core.DatasetInfo(
            builder=self, description=description, features=tfds.features.FeaturesDict(features),
            # Keep generation (file) order; the pipeline shuffles with its own seed.
            disable_shuffling=True,
            metadata=tfds.core.MetadataDict(tasks=tasks_to_config(tasks),
                                            params=dataclasses.asdict(self.builder_config.params),
                                            **metadata),
            citation=citation)

    @classmethod
    def tfds_source(cls, config):
        """`tfds_name` and `builder_kwargs` of a `DatasetSpec` that loads `config`: a
        predefined config by its name (TFDS refuses a custom config object named like a
        predefined one), any other as the object."""
        if config.name in {c.name for c in cls.BUILDER_CONFIGS}:
            return {"tfds_name": f"{cls.name}/{config.name}", "builder_kwargs": None}
        return {"tfds_name": cls.name, "builder_kwargs": {"config": config}}
