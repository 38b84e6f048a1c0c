#!/usr/bin/env bash
# `make demo`: build multi_mnist offline, train, evaluate, export, serve, query over REST and gRPC,
# then write the run's HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export TF_CPP_MIN_LOG_LEVEL=2
# TensorFlow prints start-up lines (oneDNN, CUDA probing) before its log level applies: drop
# just those from stderr, keep everything else.
exec 2> >(grep --line-buffered -v -E '^(I0000|W0000|E0000) |^WARNING: All log messages before absl' >&2)
RUN=runs/demo
MODEL=multi_mnist
BASE=exported/$MODEL
DATA_DIR=${TFDS_DATA_DIR:-tfds_data}

echo "== 1/6 train (builds the dataset offline on first use) =="
$PY train.py --config configs/default.yaml --output "$RUN" --set data.data_dir="$DATA_DIR"

echo "== 2/6 evaluate =="
$PY evaluate.py --run "$RUN"

echo "== 3/6 export =="
$PY export.py --run "$RUN" --export_base "$BASE"

read -r GRPC_PORT REST_PORT < <($PY -c "
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(('127.0.0.1', 0))
print(*[s.getsockname()[1] for s in socks])")

echo "== 4/6 serve (gRPC 127.0.0.1:$GRPC_PORT, REST 127.0.0.1:$REST_PORT) =="
$PY serve.py --port "$GRPC_PORT" --rest_api_port "$REST_PORT" \
  --model_name "$MODEL" --model_base_path "$BASE" > runs/demo_server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
$PY - "$REST_PORT" "$MODEL" <<'PYEOF'
import json, sys, time, urllib.request
port, model = sys.argv[1], sys.argv[2]
deadline = time.time() + 120
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models/{model}", timeout=2) as r:
            status = json.load(r)["model_version_status"]
            if any(s["state"] == "AVAILABLE" for s in status):
                print("server ready:", json.dumps(status))
                break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("server did not become ready; see runs/demo_server.log")
    time.sleep(0.5)
PYEOF

echo "== 5/6 query: 4 test images, every head, over REST then gRPC =="
$PY predict.py --protocol rest --port "$REST_PORT" --model_name "$MODEL" \
  --dataset multi_mnist --data_dir "$DATA_DIR" --num_examples 4
$PY predict.py --protocol grpc --port "$GRPC_PORT" --model_name "$MODEL" \
  --dataset multi_mnist --data_dir "$DATA_DIR" --num_examples 4
kill $SERVER 2>/dev/null || true

echo "== 6/6 report: learning curves, task weights, gradient conflict, task affinity =="
REPORT=$($PY report.py --run "$RUN" | sed -n 's/^wrote //p')
echo "demo done: model in $BASE, run in $RUN, server log runs/demo_server.log"
echo "report: $REPORT (open it in a browser)"
