"""MNIST Studio's UI-free core library.

Importing this package is cheap: TensorFlow is imported only inside the
functions that need it, so the CLI's help and the dashboard's first page
appear fast.
"""

__version__ = "0.1.0"
