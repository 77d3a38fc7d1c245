"""Real handwriting: decoding, preprocessing to MNIST's form, collections, and reading them."""
