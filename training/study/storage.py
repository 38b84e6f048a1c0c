"""Where a study's trials live: Optuna's RDB storage, embedded in the study folder or shared.

By default a study keeps its trials in `<output>/optuna.db` (SQLite, nothing to set
up). `study.py --storage URL` names a database that several machines share:
`postgresql://USER:PASSWORD@HOST:5432/DB` (psycopg 3, the driver requirements.txt
installs) or `mysql+pymysql://...` (install the driver), or another `sqlite:///PATH`.
Optuna's heartbeats come with it: a worker records one every `heartbeat` seconds
while a run trains, and a run whose worker stayed silent for `grace` seconds is
failed and queued again (Optuna's `RetryHeartbeatStaleTrialCallback`), so another
worker takes it over.

A storage that cannot be reached fails within seconds (a 5 s connect timeout) with
the URL shown without its password; every storage call retries a few times on a
transient error (SQLite's "database is locked" when processes write at once).

Example:
>>> from training.study.storage import redact, storage_url
>>> redact("postgresql://zoo:s3cret@db:5432/studies")
'postgresql://zoo:***@db:5432/studies'
>>> storage_url("postgresql://zoo@db/studies")
'postgresql+psycopg://zoo@db/studies'
>>> storage_url("redis://db")
Traceback (most recent call last):
...
training.study.spec.StudyError: --storage redis://db: unknown kind 'redis'; valid: sqlite:///PATH, postgresql://USER:PASSWORD@HOST[:PORT]/DB, mysql+pymysql://USER:PASSWORD@HOST[:PORT]/DB
"""

import os
import random
import time
import warnings

from training.study.spec import StudyError

FILE = "optuna.db"
KINDS = ("sqlite:///PATH", "postgresql://USER:PASSWORD@HOST[:PORT]/DB",
         "mysql+pymysql://USER:PASSWORD@HOST[:PORT]/DB")
CONNECT_TIMEOUT_S = 5
# What a worker sees when another creates Optuna's tables at the same moment (PostgreSQL,
# SQLite): it tries again.
RACES = ("duplicate", "already exists", "unique constraint", "database is locked")


def default_url(output):
    """The embedded storage of a study folder."""
    return f"sqlite:///{os.path.abspath(os.path.join(output, FILE))}"


def redact(url):
    """`url` with its password replaced by `***`."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: show no part that could be a secret
        return url.split("@")[-1] if "@" in url else url


def storage_url(url):
    """`url` checked, with `postgresql://` meaning the psycopg 3 driver we install."""
    kind = url.split(":", 1)[0] if ":" in url else url
    if kind.split("+")[0] not in ("sqlite", "postgresql", "mysql"):
        raise StudyError(f"--storage {redact(url)}: unknown kind {kind!r}; valid: "
                         f"{', '.join(KINDS)}")
    if kind in ("postgresql", "postgres"):
        return "postgresql+psycopg:" + url.split(":", 1)[1]
    return url


def _engine_kwargs(url):
    if url.startswith("sqlite"):
        # Several processes on one file: wait for the lock instead of failing at once.
        return {"connect_args": {"timeout": 60}}
    return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}, "pool_pre_ping": True}


def open_storage(url, heartbeat=30, grace=None, retries=3):
    """An `optuna.storages.RDBStorage` at `url` with heartbeats and retries of stale trials.

    Raises `StudyError` naming the URL (no password) when it cannot be reached."""
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and their retry callback are marked experimental (since Optuna 2.8/2.9);
    # we rely on them knowingly, and the warning would print once per storage call.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    real = storage_url(url)
    if real.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(os.path.abspath(real[len("sqlite:///"):])), exist_ok=True)
    for attempt in range(4):
        try:
            storage = RDBStorage(real, engine_kwargs=_engine_kwargs(real),
                                 heartbeat_interval=heartbeat,
                                 grace_period=grace or 4 * heartbeat,
                                 heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                                     max_retry=retries))
            if real.startswith("sqlite"):
                _fast_sqlite(storage.engine)
            return storage
        except Exception as e:  # the driver's and SQLAlchemy's errors: the cause, no trace
            cause = _cause(e, url)
            # Workers starting at once race to create Optuna's tables: the loser retries.
            if attempt < 3 and any(w in cause.lower() for w in RACES):
                time.sleep(0.5 + random.random())
                continue
            raise StudyError(f"--storage {redact(url)}: cannot open: {cause}") from None


def _fast_sqlite(engine):
    """Write-ahead log, synced at checkpoints: a commit costs no fsync of its own (the
    embedded storage is one machine's; a crash loses at most the last commits, which the
    runs' folders can tell again), and readers do not wait for a writer."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()  # connections opened before the listener get the pragmas when reopened


def _cause(error, url):
    """The first line of the underlying error, without the URL's password."""
    orig = getattr(error, "orig", None) or error
    text = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    try:
        from sqlalchemy.engine import make_url
        password = make_url(storage_url(url)).password
    except Exception:
        password = None
    return text.replace(password, "***") if password else text


def retrying(call, *args, attempts=8, **kwargs):
    """`call(*args, **kwargs)`, retried with backoff on a transient storage error."""
    from optuna.exceptions import StorageInternalError
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            return call(*args, **kwargs)
        except (StorageInternalError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(min(2.0, 0.05 * 2 ** attempt) * (0.5 + random.random()))
