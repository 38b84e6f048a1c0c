"""A throwaway PostgreSQL server for tests: `initdb` + `pg_ctl` in a temporary folder, listening
on a Unix socket only (no TCP port), as the `postgres` user when the tests run as root (the
server refuses root). Debian's `postgresql` package provides the binaries; `make test` and
`.ci/run` install it where it is missing (scripts/install_postgres.sh).

Example:
>>> from tests.postgres import server
>>> with server("/tmp/pg-test") as url:      # doctest: +SKIP
...     print(url)
postgresql+psycopg://postgres@/postgres?host=/tmp/pg-test&port=5432
"""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess

INSTALL_HINT = ("PostgreSQL's server binaries (Debian package `postgresql`) are not installed; "
                "`bash scripts/install_postgres.sh` (run by `make test` and .ci/run) installs them")


def binaries():
    """The folder of initdb and pg_ctl (the newest installed major version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(found[-1]) if found else (
        os.path.dirname(shutil.which("initdb")) if shutil.which("initdb") else None)


def _as_owner(folder):
    """The command prefix that runs a program as the folder's owner (root cannot run
    PostgreSQL: the `postgres` user the package creates)."""
    if os.geteuid() != 0:
        return []
    user = "postgres"
    pwd.getpwnam(user)  # KeyError: the package's user is missing
    shutil.chown(folder, user)
    return ["runuser", "-u", user, "--"]


@contextlib.contextmanager
def server(folder, port=5432):
    """Starts a cluster in `folder` (created); yields its SQLAlchemy URL; stops it."""
    bin_dir = binaries()
    if bin_dir is None:
        raise FileNotFoundError(INSTALL_HINT)
    os.makedirs(folder, exist_ok=True)
    as_owner = _as_owner(folder)
    data = os.path.join(folder, "data")
    subprocess.run(as_owner + [os.path.join(bin_dir, "initdb"), "-D", data, "-U", "postgres",
                               "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True, text=True)
    options = f"-k {folder} -c listen_addresses='' -p {port} -c fsync=off"
    subprocess.run(as_owner + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-o", options,
                               "-l", os.path.join(folder, "server.log"), "-w", "start"],
                   check=True, capture_output=True, text=True)
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
    finally:
        subprocess.run(as_owner + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-m", "immediate",
                                   "stop"], capture_output=True)
