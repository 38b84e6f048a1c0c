"""`OfflineBuilder`: the base of our TFDS builders, which generate from local sources.

TFDS prints "Downloading and preparing dataset ..." and "... downloaded and prepared"
to stdout whenever a builder prepares, a message meant for real downloads. Our
builders download nothing (they generate from numpy, a package's files or the user's
CSV files), so they say it on the log (stderr) instead, and standard output stays
the program's own (a doctest's, a pipe's).

Example:
>>> from data.offline_builder import OfflineBuilder
>>> import tensorflow_datasets as tfds
>>> issubclass(OfflineBuilder, tfds.core.GeneratorBasedBuilder)
True
"""

import logging

import tensorflow_datasets as tfds

log = logging.getLogger(__name__)


class OfflineBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A `GeneratorBasedBuilder` that reports preparing on the log, not on stdout."""

    def _log_download_bytes(self):
        log.info("preparing %s (%s) in %s", self.name, self.builder_config_name or "-",
                 self.data_dir)

    def _log_download_done(self):
        log.info("prepared %s in %s", self.name, self.data_dir)
