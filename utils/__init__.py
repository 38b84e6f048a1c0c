"""Small pieces shared by every layer of the project (no TensorFlow imports)."""
