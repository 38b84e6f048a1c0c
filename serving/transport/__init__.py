"""The servers the protocols run on: HTTP/1.1 on asyncio (`http_server`, for TF Serving's REST
API and KServe v2 REST) and gRPC (`grpc_server`, for TF Serving's gRPC services and KServe v2
gRPC), with the checks every request body passes before a protocol reads it."""
