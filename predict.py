"""Send images or TFDS test examples to a model server and print each head's answer.

    # an image file (PNG/JPEG), resized to the model's input shape read from its metadata
    python predict.py --protocol rest --port 8501 --model_name multi_mnist --image digit.png
    # N test examples of a TFDS dataset, printed beside their true labels
    python predict.py --protocol grpc --port 8500 --model_name multi_mnist \\
        --dataset multi_mnist --data_dir tfds_data --num_examples 4

What the answer means is read from the model's metadata (serving/client.py): the input shape
an image is resized to, and each task's kind, which says how its answer reads. The work is done
by `serving.client.run_predict` and `format_rows`, usable from other scripts and tests.
"""

import argparse
import os
import sys

import numpy as np

from serving.client import format_rows, make_client, run_predict


def load_image(path, dtype, shape):
    """Reads a PNG/JPEG file as one example of the given input shape ([-1, H, W, C])."""
    import tensorflow as tf

    _, height, width, channels = shape
    image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
    if image.shape[0] != height or image.shape[1] != width:
        image = tf.image.resize(image, [height, width])
    return np.asarray(image.numpy(), dtype=dtype)


def load_tfds_examples(dataset, data_dir, split, num_examples):
    """[{feature: ndarray}] for the first examples of a built TFDS dataset (loaded by name)."""
    import tensorflow_datasets as tfds

    ds = tfds.load(dataset, split=split, data_dir=data_dir, download=False)
    return [dict(ex) for ex in tfds.as_numpy(ds.take(num_examples))]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--protocol", choices=["rest", "grpc"], default="rest")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="Default: 8501 (rest) / 8500 (grpc).")
    p.add_argument("--model_name", required=True)
    p.add_argument("--model_version", type=int, default=None)
    p.add_argument("--signature_name", default="serving_default")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--image", nargs="+", help="PNG/JPEG files.")
    src.add_argument("--dataset", help="TFDS dataset name (already built in --data_dir).")
    p.add_argument("--data_dir", default=os.environ.get("TFDS_DATA_DIR", "tfds_data"),
                   help="TFDS data dir (default: $TFDS_DATA_DIR or tfds_data, as train.py)")
    p.add_argument("--split", default="test")
    p.add_argument("--num_examples", type=int, default=4)
    args = p.parse_args(argv)

    port = args.port or (8501 if args.protocol == "rest" else 8500)
    client = make_client(args.protocol, args.host, port)
    info = client.describe(args.model_name, args.signature_name, args.model_version)
    spec = info.inputs
    labels = None
    if args.image:
        if len(spec) != 1:
            p.error(f"--image needs a signature with one image input; this one has {sorted(spec)}")
        name, (dtype, shape) = next(iter(spec.items()))
        examples = {name: np.stack([load_image(f, dtype, shape) for f in args.image])}
    else:
        records = load_tfds_examples(args.dataset, args.data_dir, args.split, args.num_examples)
        missing = [k for k in spec if k not in records[0]]
        if missing:
            p.error(f"dataset {args.dataset} lacks the model inputs {missing}")
        examples = {k: np.stack([r[k] for r in records]).astype(
            object if spec[k][0] == "string" else spec[k][0]) for k in spec}
        labels = {k: np.stack([r[k] for r in records]) for k in records[0] if k not in spec}
    rows = run_predict(client, args.model_name, examples, args.signature_name,
                       args.model_version, labels, info.tasks)
    print(f"{args.protocol.upper()} {args.host}:{port} model {args.model_name} "
          f"signature {args.signature_name}:")
    print(format_rows(rows))
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
