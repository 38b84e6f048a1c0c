"""Models, versions and their life cycle, as TF Serving's ServerCore manages them.

For each model of the `ModelServerConfig` the manager scans `base_path` for integer
folders, applies the version policy (`latest` N, `all`, `specific`), loads and warms up new
versions, and only then retires the ones that left the policy (availability first: a
version is AVAILABLE only once loaded and warmed up, and a version that fails to load is
reported in the status and never replaces a working one). Requests resolve a
`ModelSpec`-like (name, version, label) to a `Servable`; holding that object is all it
takes for a request to finish on the version it started on.

Example:
    >>> import tempfile
    >>> from serving import protos
    >>> from serving.core.model_manager import ModelManager
    >>> from serving.testing import write_toy_saved_model
    >>> base = tempfile.mkdtemp()
    >>> _ = write_toy_saved_model(base, 1); _ = write_toy_saved_model(base, 2)
    >>> mm = ModelManager()
    >>> mm.apply_config(protos.parse_model_server_config(
    ...     f'model_config_list {{ config {{ name: "toy" base_path: "{base}" '
    ...     'model_platform: "tensorflow" }}'))
    >>> mm.resolve("toy").version, [(v, s) for v, s, _ in mm.version_states("toy")]
    (2, [(2, 30)])
"""

import dataclasses
import logging
import os
import threading
import time

from tensorflow_serving.apis import get_model_status_pb2

from serving.core import warmup
from serving.core.servable import DEFAULT_MAX_EXAMPLES, Servable
from serving.errors import ServingError, invalid_argument, not_found

log = logging.getLogger(__name__)
State = get_model_status_pb2.ModelVersionStatus.State


@dataclasses.dataclass
class VersionRecord:
    version: int
    state: int = State.START
    error: ServingError = None
    servable: Servable = None
    fingerprint: tuple = None  # files' mtimes when last tried, to retry only on change
    attempts: int = 0
    next_try: float = 0.0


@dataclasses.dataclass
class ManagedModel:
    config: object  # ModelConfig proto
    versions: dict = dataclasses.field(default_factory=dict)  # int -> VersionRecord
    labels: dict = dataclasses.field(default_factory=dict)


def _fingerprint(path):
    stamp = []
    for root, _, files in os.walk(path):
        for f in files:
            try:
                st = os.stat(os.path.join(root, f))
            except OSError:
                continue
            stamp.append((os.path.relpath(os.path.join(root, f), path), st.st_mtime_ns, st.st_size))
    return tuple(sorted(stamp))


def scan_versions(base_path):
    """{version: folder} for integer sub-folders holding a saved_model.pb(txt)."""
    found = {}
    try:
        names = os.listdir(base_path)
    except OSError:
        return found
    for name in names:
        if not name.isdigit():  # TF Serving ignores non-integer folders (e.g. temp exports)
            continue
        path = os.path.join(base_path, name)
        if any(os.path.exists(os.path.join(path, f)) for f in ("saved_model.pb", "saved_model.pbtxt")):
            found[int(name)] = path
    return found


def aspired_versions(policy, candidates):
    """Applies a ServableVersionPolicy to the set of loadable versions."""
    which = policy.WhichOneof("policy_choice")
    if which == "all":
        return set(candidates)
    if which == "specific":
        return set(candidates) & set(policy.specific.versions)
    n = policy.latest.num_versions if which == "latest" and policy.latest.num_versions else 1
    return set(sorted(candidates)[-n:])


class ModelManager:
    """Loads, serves and retires model versions.

    Args:
        batch_options: optional BatchOptions; enables batching in every loaded version.
        enable_warmup: bool. Replay assets.extra/tf_serving_warmup_requests at load.
        metrics: optional serving.core.metrics.Metrics.
        max_num_load_retries: int. Extra attempts for a version that failed to load.
        load_retry_interval_s: float. Pause between attempts.
        max_examples: int. Most examples per request (see Servable); 0: no limit.
    """

    def __init__(self, batch_options=None, enable_warmup=True, metrics=None,
                 max_num_load_retries=5, load_retry_interval_s=60.0,
                 max_examples=DEFAULT_MAX_EXAMPLES):
        self._max_examples = max_examples
        self._batch_options = batch_options
        self._enable_warmup = enable_warmup
        self._metrics = metrics
        self._max_retries = max_num_load_retries
        self._retry_interval = load_retry_interval_s
        self._models = {}  # name -> ManagedModel
        self._lock = threading.RLock()  # guards _models and the records
        self._reconcile_lock = threading.Lock()  # one load/unload pass at a time
        self._stop = threading.Event()
        self._threads = []

    # ------------------------------------------------------------------ config
    def apply_config(self, config):
        """Switches to a new ModelServerConfig and loads/unloads to match it (blocking).

        A config with neither `model_config_list` nor `custom_model_config` set changes
        nothing, as in TF Serving's ServerCore ("Taking no action for empty config"); an empty
        `model_config_list {}` does unload every model.
        """
        which = config.WhichOneof("config")
        if which is None:
            log.info("Taking no action for empty config.")
            return
        if which == "custom_model_config":
            raise invalid_argument("custom_model_config is not supported; use model_config_list")
        wanted = {}
        for mc in config.model_config_list.config:
            if mc.model_platform not in ("", "tensorflow"):
                raise invalid_argument(f"Model platform {mc.model_platform} not supported")
            if not mc.name or not mc.base_path:
                raise invalid_argument("Each model config needs a name and a base_path")
            if mc.name in wanted:
                raise invalid_argument(f"Illegal to list model {mc.name} multiple times in config list")
            wanted[mc.name] = mc
        with self._reconcile_lock:
            with self._lock:
                for name in list(self._models):
                    if name not in wanted:
                        self._retire_model(self._models.pop(name))
                for name, mc in wanted.items():
                    if name in self._models:
                        self._models[name].config = mc
                    else:
                        self._models[name] = ManagedModel(config=mc)
                    self._models[name].labels = dict(mc.version_labels)
            self._reconcile_all()

    # ------------------------------------------------------------------ polling
    def poll_once(self):
        with self._reconcile_lock:
            self._reconcile_all()

    def start_polling(self, interval_s):
        """Re-scans base paths every interval_s seconds in a daemon thread (0: never)."""
        if interval_s > 0:
            self._start_thread(lambda: self.poll_once(), interval_s, "version-poller")

    def start_config_polling(self, path, interval_s, parse):
        """Re-reads the config file every interval_s seconds; applies it when it changed."""
        last = [None]

        def tick():
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if not text.strip() and last[0] is not None:
                    # An editor or `>` truncates the file before writing it: an empty read is
                    # a write in progress, not a request to unload every model.
                    log.warning("Model config file %s is empty; keeping the current config", path)
                    return
                if text != last[0]:
                    if last[0] is not None:
                        log.info("Model config file %s changed; reloading", path)
                        self.apply_config(parse(text))
                    last[0] = text
            except Exception:  # noqa: BLE001 - a bad edit must not stop the server
                log.exception("Could not reload model config %s; keeping the current one", path)

        tick()
        if interval_s > 0:
            self._start_thread(tick, interval_s, "config-poller")

    def _start_thread(self, fn, interval_s, name):
        def loop():
            while not self._stop.wait(interval_s):
                try:
                    fn()
                except Exception:  # noqa: BLE001 - keep polling
                    log.exception("%s failed", name)

        t = threading.Thread(target=loop, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
        with self._lock:
            for model in self._models.values():
                self._retire_model(model)

    # ------------------------------------------------------------------ load / unload
    def _reconcile_all(self):
        with self._lock:
            models = list(self._models.items())
        for name, model in models:
            try:
                self._reconcile(name, model)
            except Exception:  # noqa: BLE001 - one bad model must not block the others
                log.exception("Reconciling model %s failed", name)

    def _loadable(self, model, on_disk, now):
        out = set()
        for v, path in on_disk.items():
            rec = model.versions.get(v)
            if rec is None or rec.state == State.AVAILABLE or rec.error is None:
                out.add(v)
            elif rec.fingerprint != _fingerprint(path):  # files changed: try afresh
                rec.attempts = 0
                out.add(v)
            elif rec.attempts <= self._max_retries and now >= rec.next_try:
                out.add(v)
        return out

    def _reconcile(self, name, model):
        mc = model.config
        on_disk = scan_versions(mc.base_path)
        if not on_disk:
            log.warning("No versions of servable %s found under base path %s", name, mc.base_path)
        policy = mc.model_version_policy
        aspired = aspired_versions(policy, self._loadable(model, on_disk, time.monotonic()))
        for v in sorted(aspired, reverse=True):
            rec = model.versions.get(v)
            if rec is None or rec.state != State.AVAILABLE:
                self._load(name, model, v, on_disk[v])
        # Re-apply the policy without the versions that just failed, so that a broken new
        # version leaves the working old one in place.
        good = {v for v, r in model.versions.items() if r.state == State.AVAILABLE and v in on_disk}
        keep = aspired if aspired <= good else aspired_versions(policy, good)
        for v, rec in list(model.versions.items()):
            if rec.state == State.AVAILABLE and v not in keep:
                self._unload(name, rec)

    def _load(self, name, model, version, path):
        with self._lock:
            rec = model.versions.get(version) or VersionRecord(version)
            rec.state, rec.error = State.LOADING, None
            rec.attempts += 1
            rec.fingerprint = _fingerprint(path)
            model.versions[version] = rec
        log.info("Loading servable: {name: %s version: %d}", name, version)
        servable = None
        try:
            on_batch = None
            if self._metrics:
                on_batch = lambda sig, size: self._metrics.batch_size(name, version, sig, size)
            servable = Servable(name, version, path, self._batch_options, on_batch,
                                self._max_examples)
            if self._enable_warmup:
                n = warmup.run_warmup(servable)
                if n:
                    log.info("Finished reading warmup data for model at %s. Number of warmup "
                             "records read: %d.", path, n)
        except Exception as e:  # noqa: BLE001 - reported in the model status
            if servable is not None:
                servable.close()
            err = e if isinstance(e, ServingError) else ServingError(
                "UNKNOWN", f"Failed to load servable {name} version {version}: {e}")
            with self._lock:
                rec.state, rec.error, rec.servable = State.END, err, None
                rec.next_try = time.monotonic() + self._retry_interval
            log.error("Loading servable {name: %s version: %d} failed: %s", name, version, err.message)
            return
        with self._lock:
            rec.servable, rec.state = servable, State.AVAILABLE
        log.info("Successfully loaded servable version {name: %s version: %d}", name, version)

    def _unload(self, name, rec):
        with self._lock:
            rec.state = State.UNLOADING
            servable, rec.servable = rec.servable, None
            rec.state = State.END
        if servable is not None:
            servable.close()  # queued batches still run; in-flight callers keep their reference
        log.info("Unloaded servable version {name: %s version: %d}", name, rec.version)

    def _retire_model(self, model):
        for rec in model.versions.values():
            if rec.servable is not None:
                rec.servable.close()
                rec.servable = None
            rec.state = State.END

    # ------------------------------------------------------------------ lookup
    def resolve(self, name, version=None, label=None, info=None):
        """The Servable for a request (the first step of every operation on a model); raises
        ServingError with TF Serving's messages. `info` (a dict, for metrics) gets "version"."""
        servable = self._lookup(name, version, label)
        if info is not None:
            info["version"] = servable.version
        return servable

    def _lookup(self, name, version, label):
        if version is not None and label:
            raise invalid_argument(
                f"Both model version ({version}) and model version label ({label}) cannot be "
                "supplied.")
        with self._lock:
            model = self._models.get(name)
            if label:
                if model is None or label not in model.labels:
                    raise invalid_argument(f"Unrecognized servable version label: {label}")
                version = model.labels[label]
            if version is not None:
                rec = model.versions.get(version) if model else None
                if rec is None or rec.servable is None:
                    raise not_found(f"Servable not found for request: Specific({name}, {version})")
                return rec.servable
            best = None
            if model is not None:
                for v, rec in model.versions.items():
                    if rec.servable is not None and (best is None or v > best.version):
                        best = rec.servable
            if best is None:
                raise not_found(f"Servable not found for request: Latest({name})")
            return best

    def version_states(self, name, version=None):
        """[(version, state, ServingError|None)] for GetModelStatus, newest first."""
        with self._lock:
            model = self._models.get(name)
            records = dict(model.versions) if model else {}
        if version is not None:
            if version not in records:
                raise not_found(f"Could not find version {version} of model {name}")
            records = {version: records[version]}
        elif not records:
            raise not_found(f"Could not find any versions of model {name}")
        return [(v, r.state, r.error) for v, r in sorted(records.items(), reverse=True)]

    def ready(self):
        """True when every configured model has an AVAILABLE version (and there is one)."""
        with self._lock:
            return bool(self._models) and all(
                any(r.servable is not None for r in m.versions.values())
                for m in self._models.values())
