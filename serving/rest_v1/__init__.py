"""TF Serving's REST API (v1): routes and verbs (`api`), JSON bodies to and from numpy
(`json_codec`, with the fast reading of integer arrays in `json_ints`), tf.Example bodies of
classify/regress (`examples_json`), and its OpenAPI document (`openapi.yaml`)."""
