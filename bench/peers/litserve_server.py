"""LitServe with its dynamic batching on a SavedModel, for bench/serving_peers.py (runs in
.bench-venv).

    .bench-venv/bin/python bench/peers/litserve_server.py --model_dir DIR --port 8000 --max_batch_size 32

`POST /predict` with the same v1 body (`{"instances": [...]}`, batch-1 requests); LitServe
collects up to `max_batch_size` requests for `batch_timeout` seconds and calls `predict` once
per batch. The LitAPI class is at module level: LitServe spawns its workers and pickles it.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import litserve as ls  # noqa: E402
import numpy as np  # noqa: E402


class SavedModelAPI(ls.LitAPI):
    def __init__(self, model_dir, **kwargs):
        super().__init__(**kwargs)
        self.model_dir = model_dir

    def setup(self, device):
        import tensorflow as tf

        self.tf = tf
        self.fn = tf.saved_model.load(self.model_dir).signatures["serving_default"]

    def decode_request(self, request):
        return np.asarray(request["instances"], np.uint8)

    def batch(self, inputs):
        return np.concatenate(inputs)

    def predict(self, x):
        out = {k: v.numpy() for k, v in self.fn(image=self.tf.constant(x)).items()}
        names = sorted(out)
        return [{n: out[n][i].tolist() for n in names} for i in range(len(x))]

    def unbatch(self, output):
        return output

    def encode_response(self, output):
        return {"predictions": [output]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model_dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--max_batch_size", type=int, default=32)
    p.add_argument("--batch_timeout", type=float, default=0.001)
    args = p.parse_args()
    api = SavedModelAPI(args.model_dir, max_batch_size=args.max_batch_size,
                        batch_timeout=args.batch_timeout)
    server = ls.LitServer(api, accelerator="cpu", workers_per_device=1)
    server.run(host="127.0.0.1", port=args.port, num_api_servers=1, log_level="warning",
               generate_client_file=False)


if __name__ == "__main__":
    sys.exit(main())
