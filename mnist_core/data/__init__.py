"""MNIST loading, fixed splits, dataset statistics and training-time augmentation."""
