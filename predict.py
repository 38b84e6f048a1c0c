"""Send images or TFDS test examples to a model server and print each head's answer.

    # an image file (PNG/JPEG), resized to the model's input shape read from its metadata
    python predict.py --protocol rest --port 8501 --model_name multi_mnist --image digit.png
    # N test examples of a TFDS dataset, printed beside their true labels
    python predict.py --protocol grpc --port 8500 --model_name multi_mnist \\
        --dataset multi_mnist --data_dir tfds_data --num_examples 4

The work is done by `run_predict`, usable from other scripts and tests.
"""

import argparse
import os
import sys

import numpy as np

from serving.client import make_client


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


def summarize(value):
    """A short human reading of one head's answer for one example."""
    value = np.asarray(value)
    if value.ndim == 1 and value.size > 1:
        top = int(np.argmax(value))
        return f"{top} (p={float(value[top]):.2f})"
    return f"{value.item():.3f}" if value.dtype.kind == "f" else str(value.item())


def prediction(value):
    """The predicted label of one head's answer: class id, 0/1 for a probability, or the value."""
    value = np.asarray(value)
    if value.ndim == 1 and value.size > 1:
        return int(np.argmax(value))
    if value.dtype.kind == "f" and 0.0 <= value.item() <= 1.0:
        return int(value.item() >= 0.5)
    return value.item()


def run_predict(client, model_name, examples, signature="serving_default", version=None,
                labels=None):
    """Sends `examples` (a dict of batched arrays) in one request.

    Returns a list with, per example, {"outputs": {head: value}, "labels": {head: true value}}
    where true labels are the `labels` entries named like an output.
    """
    outputs = client.predict(model_name, examples, signature, version)
    n = len(next(iter(examples.values())))
    rows = []
    for i in range(n):
        row = {"outputs": {k: v[i] for k, v in sorted(outputs.items())}, "labels": {}}
        for k in row["outputs"]:
            if labels and k in labels:
                row["labels"][k] = labels[k][i]
        rows.append(row)
    return rows


def format_rows(rows):
    """One line per example: every head's answer, beside the true label when known.

    `<head>_class` and `<head>_label` (class name) outputs are folded into their probability
    head."""
    lines = []
    for i, row in enumerate(rows):
        heads = [h for h in row["outputs"]
                 if not any(h.endswith(suffix) and h[:-len(suffix)] in row["outputs"]
                            for suffix in ("_class", "_label"))]
        cells = []
        for head in heads:
            value = row["outputs"][head]
            cell = f"{head}={summarize(value)}"
            label_key = head if head in row["labels"] else f"{head}_class"
            if label_key in row["labels"]:
                true = np.asarray(row["labels"][label_key])
                mark = "ok" if np.array_equal(np.asarray(prediction(value)), true) else "MISS"
                cell += f" true={true.tolist()} {mark}"
            cells.append(cell)
        lines.append(f"example {i}: " + " | ".join(cells))
    return "\n".join(lines)


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
    spec = client.input_spec(args.model_name, args.signature_name, args.model_version)
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
                       args.model_version, labels)
    print(f"{args.protocol.upper()} {args.host}:{port} model {args.model_name} "
          f"signature {args.signature_name}:")
    print(format_rows(rows))
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
