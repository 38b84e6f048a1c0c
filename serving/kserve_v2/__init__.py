"""The Open Inference Protocol (KServe v2): its operations (`service`), tensors (`tensors`), and
its REST (`rest_api`) and gRPC (`grpc_servicer`) front ends."""
