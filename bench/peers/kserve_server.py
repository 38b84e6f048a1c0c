"""KServe's Python ModelServer on a SavedModel, for bench/serving_peers.py (runs in .bench-venv).

    .bench-venv/bin/python bench/peers/kserve_server.py --model_dir DIR --http_port 8080

A `kserve.Model` whose `predict` takes the v1 body KServe has parsed (`{"instances": [...]}`),
calls the SavedModel's serving_default signature once per request (KServe has no batcher of its
own) and answers `{"predictions": [...]}` in the row format. The model is called the same way
as in our server: `tf.saved_model.load(...).signatures["serving_default"]`.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model_dir", required=True)
    p.add_argument("--http_port", type=int, required=True)
    args, _ = p.parse_known_args()  # kserve reads the same sys.argv (--http_port) itself

    import numpy as np
    import tensorflow as tf
    from kserve import Model, ModelServer

    class SavedModel(Model):
        def load(self):
            self.fn = tf.saved_model.load(args.model_dir).signatures["serving_default"]
            self.ready = True

        def predict(self, payload, headers=None):
            image = tf.constant(np.asarray(payload["instances"], np.uint8))
            out = {k: v.numpy() for k, v in self.fn(image=image).items()}
            names = sorted(out)
            return {"predictions": [{n: out[n][i].tolist() for n in names}
                                    for i in range(len(out[names[0]]))]}

    model = SavedModel("cnn")
    model.load()
    ModelServer(http_port=args.http_port, enable_grpc=False, workers=1).start([model])


if __name__ == "__main__":
    sys.exit(main())
