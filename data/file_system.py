"""Paths on any file system TensorFlow has: local ones, and `gs://`, `ram://`, or `s3://` and
`hdfs://` where a TensorFlow file system plugin provides them.

The table readers (`data.csv_reader`, `data.table_reader`), the file options (globs,
fingerprints) and the schema cache go through these few functions, so a Beam work item on
a Dataflow worker (which shares no disk with the machine that planned it) opens
`gs://bucket/part-0001.csv.gz` as this machine opens a local file. A local path (no
`scheme://`) stays on Python's and pyarrow's own local readers (C++ reads, no Python in
the loop) and never imports TensorFlow; a path with a scheme is read through
`tf.io.gfile`, wrapped as a Python file object that pyarrow reads (decompressors, the CSV
and JSON readers, `pyarrow.parquet`). One way to reach remote files (TensorFlow's) means
one set of credentials: those the training already uses for `data.data_dir` on `gs://`.

Example:
>>> import tensorflow as tf
>>> from data.file_system import glob_files, is_remote, open_raw, stat
>>> is_remote("gs://bucket/logs/part-0.csv.gz"), is_remote("examples/customers.csv")
(True, False)
>>> with tf.io.gfile.GFile("ram://doc/a.csv", "w") as f:
...     _ = f.write("x,y\\n1,2\\n")
>>> glob_files("ram://doc/*.csv"), stat("ram://doc/a.csv")[0]
(['ram://doc/a.csv'], 8)
>>> with open_raw("ram://doc/a.csv") as f:
...     f.read()
b'x,y\\n1,2\\n'
"""

import glob
import importlib.util
import io
import os


def is_remote(path):
    """A path with a scheme (`gs://...`): read through TensorFlow's file systems."""
    return "://" in str(path)


_SCHEMES_TRIED = set()


def _gfile(path):
    """`tf.io.gfile`, able to reach `path`'s scheme if any installed plugin provides it: an
    installed `tensorflow_io` is imported the first time a scheme TensorFlow lacks is asked
    for (importing it registers its file systems: `s3`, `hdfs`, `az`, ...), here and in
    every Beam worker alike."""
    # TensorFlow only for a remote path: local reads never pay its import (seconds).
    import tensorflow as tf

    scheme = str(path).split("://", 1)[0]
    if scheme not in _SCHEMES_TRIED:
        _SCHEMES_TRIED.add(scheme)
        if (scheme not in tf.io.gfile.get_registered_schemes()
                and importlib.util.find_spec("tensorflow_io") is not None):
            try:
                import tensorflow_io  # noqa: F401 (registers its file systems)
            except Exception:  # a build for another TensorFlow: reported as unregistered
                pass
    return tf.io.gfile


def unavailable(path):
    """Why TensorFlow cannot reach `path`'s scheme in this process (a message), or None."""
    if not is_remote(path):
        return None
    scheme = str(path).split("://", 1)[0]
    schemes = _gfile(path).get_registered_schemes()
    if scheme in schemes:
        return None
    known = ", ".join(f"{s}://" for s in sorted(schemes) if s)
    return (f"TensorFlow has no file system for {scheme}:// in this process; valid: a local "
            f"path, {known} (s3:// and hdfs:// need a TensorFlow file system plugin, e.g. "
            "tensorflow-io's)")


def glob_files(pattern):
    """The files (not folders) `pattern` matches, sorted: local ones as absolute paths,
    remote ones as TensorFlow names them."""
    if is_remote(pattern):
        gfile = _gfile(pattern)
        return sorted(m for m in gfile.glob(pattern) if not gfile.isdir(m))
    matches = sorted(glob.glob(os.path.expanduser(pattern)))
    return [os.path.abspath(m) for m in matches if os.path.isfile(m)]


def exists(path):
    return _gfile(path).exists(path) if is_remote(path) else os.path.exists(path)


def stat(path):
    """(size in bytes, modification time in ns) of a file; FileNotFoundError when missing."""
    if not is_remote(path):
        s = os.stat(path)
        return s.st_size, s.st_mtime_ns
    import tensorflow as tf
    try:
        s = _gfile(path).stat(path)
    except tf.errors.NotFoundError:
        raise FileNotFoundError(path) from None
    return s.length, s.mtime_nsec


def open_raw(path):
    """The file's bytes as a seekable Python file object (closed by its user)."""
    return RemoteFile(path) if is_remote(path) else open(path, "rb")


class RemoteFile(io.RawIOBase):
    """A `tf.io.gfile.GFile` opened for reading, as the Python file object pyarrow and
    Python's decompressors take (GFile lacks `closed`, `readinto` and `seekable`)."""

    def __init__(self, path):
        super().__init__()
        self.name = path
        self._file = _gfile(path).GFile(path, "rb")

    def readable(self):
        return True

    def seekable(self):
        return True

    def read(self, size=-1):  # one copy less than RawIOBase's read through readinto
        return self._file.read(size)

    def readinto(self, buffer):
        data = self._file.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset, whence=io.SEEK_SET):
        self._file.seek(offset, whence)
        return self._file.tell()

    def tell(self):
        return self._file.tell()

    def close(self):
        if not self.closed:
            self._file.close()
        super().close()


def read_text(path):
    """A small text file's content (the schema cache); FileNotFoundError when missing."""
    if not is_remote(path):
        with open(path) as f:
            return f.read()
    import tensorflow as tf
    try:
        with _gfile(path).GFile(path, "r") as f:
            return f.read()
    except tf.errors.NotFoundError:
        raise FileNotFoundError(path) from None


def write_text(path, text):
    """Writes a small text file whole, creating its folder: written aside and moved in, so a
    reader never sees half of it (on object stores, an object appears whole anyway)."""
    tmp = f"{path}.tmp-{os.getpid()}"
    if not is_remote(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
        return
    gfile = _gfile(path)
    gfile.makedirs(os.path.dirname(path))
    with gfile.GFile(tmp, "w") as f:
        f.write(text)
    gfile.rename(tmp, path, overwrite=True)
