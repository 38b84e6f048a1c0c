"""Small pieces shared by every layer of the project (none imports TensorFlow when imported)."""
