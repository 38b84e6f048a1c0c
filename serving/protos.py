"""Text-format config files of tensorflow_model_server, parsed with real protobuf classes.

`ModelServerConfig` ships in `tensorflow-serving-api`. `BatchingParameters` and
`MonitoringConfig` do not (the wheel has no servables/ or monitoring protos), so we build
message classes with the same names, fields and types at run time from a
`FileDescriptorProto`: `text_format` then accepts exactly what tensorflow_model_server
accepts (e.g. `max_batch_size { value: 32 }`) and rejects unknown fields the same way.

Example:
    >>> from serving import protos
    >>> p = protos.parse_batching_parameters("max_batch_size { value: 32 }")
    >>> p.max_batch_size.value
    32
    >>> protos.parse_monitoring_config(
    ...     'prometheus_config { enable: true path: "/metrics" }').prometheus_config.path
    '/metrics'
"""

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf import wrappers_pb2
from tensorflow_serving.config import model_server_config_pb2

_F = descriptor_pb2.FieldDescriptorProto


def _build_classes():
    """Builds tensorflow.serving.BatchingParameters / MonitoringConfig / PrometheusConfig."""
    pool = descriptor_pool.DescriptorPool()
    wrappers = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers)
    pool.Add(wrappers)

    fdp = descriptor_pb2.FileDescriptorProto(
        name="mtl_zoo/serving_configs.proto",
        package="tensorflow.serving",
        syntax="proto3",
        dependency=["google/protobuf/wrappers.proto"],
    )
    batching = fdp.message_type.add(name="BatchingParameters")
    # Same field names and numbers as session_bundle_config.proto (TF Serving 2.x).
    for number, name, kind in [
        (1, "max_batch_size", ".google.protobuf.Int64Value"),
        (2, "batch_timeout_micros", ".google.protobuf.Int64Value"),
        (3, "max_enqueued_batches", ".google.protobuf.Int64Value"),
        (4, "num_batch_threads", ".google.protobuf.Int64Value"),
        (5, "thread_pool_name", ".google.protobuf.StringValue"),
        (9, "max_execution_batch_size", ".google.protobuf.Int64Value"),
    ]:
        batching.field.add(name=name, number=number, type=_F.TYPE_MESSAGE,
                           type_name=kind, label=_F.LABEL_OPTIONAL)
    batching.field.add(name="allowed_batch_sizes", number=6, type=_F.TYPE_INT64,
                       label=_F.LABEL_REPEATED)
    batching.field.add(name="pad_variable_length_inputs", number=7, type=_F.TYPE_BOOL,
                       label=_F.LABEL_OPTIONAL)
    batching.field.add(name="enable_large_batch_splitting", number=8, type=_F.TYPE_BOOL,
                       label=_F.LABEL_OPTIONAL)

    prometheus = fdp.message_type.add(name="PrometheusConfig")
    prometheus.field.add(name="enable", number=1, type=_F.TYPE_BOOL, label=_F.LABEL_OPTIONAL)
    prometheus.field.add(name="path", number=2, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    monitoring = fdp.message_type.add(name="MonitoringConfig")
    monitoring.field.add(name="prometheus_config", number=1, type=_F.TYPE_MESSAGE,
                         type_name=".tensorflow.serving.PrometheusConfig",
                         label=_F.LABEL_OPTIONAL)
    pool.Add(fdp)
    get = lambda n: message_factory.GetMessageClass(pool.FindMessageTypeByName(n))
    return (get("tensorflow.serving.BatchingParameters"),
            get("tensorflow.serving.MonitoringConfig"))


BatchingParameters, MonitoringConfig = _build_classes()
ModelServerConfig = model_server_config_pb2.ModelServerConfig

# TF Serving's default Prometheus path (PrometheusExporter::kPrometheusPath).
DEFAULT_PROMETHEUS_PATH = "/monitoring/prometheus/metrics"


def parse_model_server_config(text):
    """Parses a models.config (text `ModelServerConfig`); raises text_format.ParseError."""
    return text_format.Parse(text, ModelServerConfig())


def parse_batching_parameters(text):
    """Parses a --batching_parameters_file (text `BatchingParameters`)."""
    return text_format.Parse(text, BatchingParameters())


def parse_monitoring_config(text):
    """Parses a --monitoring_config_file (text `MonitoringConfig`)."""
    return text_format.Parse(text, MonitoringConfig())


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()
