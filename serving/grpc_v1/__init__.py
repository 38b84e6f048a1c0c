"""TF Serving's gRPC API (v1): `tensorflow.serving.PredictionService` and `ModelService`
(`servicers`)."""
