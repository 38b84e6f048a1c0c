"""The protocol-free core of the server: models and their versions (`model_manager`), one loaded
version and how to run it (`servable`, `batching`, `warmup`), the operations other than Predict
(`inference`), and what they share (`metrics`, `examples`, `tensor_proto`). Nothing here imports
a protocol package (`serving.rest_v1`, `serving.grpc_v1`, `serving.kserve_v2`) or a transport.
"""
