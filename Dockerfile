# Serves one exported model with the official TensorFlow Serving image.
#   python export.py --run runs/demo --export_base exported/multi_mnist   (writes exported/multi_mnist/<version>/)
#   docker build --build-arg MODEL_NAME=multi_mnist -t mtl-zoo-serving .
#   docker run --rm -p 8500:8500 -p 8501:8501 mtl-zoo-serving
# 2.20.0 is the newest tensorflow/serving release (tags of github.com/tensorflow/serving; there
# is no 2.21.0 yet). Every op our exports use is checked against an allow-list in
# tests/serving/test_deploy.py; the tensorflow-serving-api 2.21 client stubs speak the same API.
FROM tensorflow/serving:2.20.0

ARG MODEL_NAME=multi_mnist
ENV MODEL_NAME=${MODEL_NAME} \
    MODEL_BASE_PATH=/models

# The whole model folder, version sub-folders included: TF Serving needs <name>/<version>/.
COPY exported/${MODEL_NAME} /models/${MODEL_NAME}
COPY docker/batching.config docker/monitoring.config /models/config/

EXPOSE 8500 8501

# The image's entrypoint serves ${MODEL_BASE_PATH}/${MODEL_NAME} on 8500/8501 and appends these.
CMD ["--enable_batching=true", \
     "--batching_parameters_file=/models/config/batching.config", \
     "--monitoring_config_file=/models/config/monitoring.config"]
