"""A TensorFlow-Serving-compatible model server, by layer (each imports only the layers above it
in this list, never one beside or below it):

- shared: `errors` (canonical codes), `flags` (serve.py's flags), `protos` (config files);
- `core/`: models, versions, servables, batching, warmup, metrics: no protocol in it;
- `transport/`: the HTTP (asyncio) and gRPC servers the protocols run on;
- one package per protocol: `rest_v1/` (TF Serving REST), `grpc_v1/` (TF Serving gRPC),
  `kserve_v2/` (the Open Inference Protocol, REST and gRPC);
- entry points: `server` (flags in, a running server out), `workers` (--num_workers);
- beside them: `client` (REST/gRPC clients reading a model's metadata), `testing` (toy models).
"""
