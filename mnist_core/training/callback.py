"""The Keras side of training progress: a callback that reports to the observers, and one that validates.

Imported only by the Keras training path, so importing mnist_core.training
stays free of TensorFlow.
"""

from __future__ import annotations

import keras
import numpy as np

from mnist_core.training.observers import CANCEL, KEEP, Broadcast
from mnist_core.training.rundir import Cancelled


class ProgressCallback(keras.callbacks.Callback):
    """Reports every batch and epoch of model.fit to a Broadcast.

    A cancel request ends fit at once, after the current batch, by raising
    Cancelled (the model is discarded, so the epoch's validation would be time
    spent for nothing); a stop-and-keep request stops it after the current
    batch too, and the model is kept; an observer that has seen enough at an
    epoch's end stops it there, and the model is kept.
    """

    def __init__(self, broadcast: Broadcast):
        super().__init__()
        self.broadcast = broadcast
        self.epoch = 1  # 1-based, as the events and the observers count
        self.cancelled = False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        verdict = self.broadcast.batch(self.epoch, batch + 1, logs.get("loss", 0.0), logs.get("accuracy", 0.0))
        if verdict == CANCEL:
            self.cancelled = True
            raise Cancelled()
        if verdict == KEEP:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.cancelled:  # a cancelled epoch did not finish: no epoch event
            return
        logs = dict(logs or {})
        logs["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        if self.broadcast.epoch(epoch + 1, logs, self.model):
            self.model.stop_training = True


class Validation(keras.callbacks.Callback):
    """fit's validation without a second traced graph: the held-out images through the model, eagerly.

    Keras' own validation traces a test step the first time it runs (0.2-0.3 s here, a twentieth of a
    `fast` run) to push 5,000 images through the model once an epoch; an eager forward pass in chunks
    is the same arithmetic with no tracing. It writes val_loss and val_accuracy into the epoch's logs
    (as Keras' LearningRateScheduler writes the rate), so History and every callback after this one
    read them as fit's own.
    """

    def __init__(self, x, y, loss, batch_size: int = 2048):
        super().__init__()
        self.x, self.y, self.loss, self.batch_size = x, y, keras.losses.get(loss), int(batch_size)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or not len(self.x):
            return
        probs = np.concatenate([keras.ops.convert_to_numpy(self.model(self.x[i:i + self.batch_size], training=False))
                                for i in range(0, len(self.x), self.batch_size)]).astype(np.float32)
        labels = self.y.argmax(axis=1) if self.y.ndim == 2 else self.y
        logs["val_loss"] = float(np.mean(keras.ops.convert_to_numpy(self.loss(self.y, probs))))  # a Loss or per-sample
        logs["val_accuracy"] = float(np.mean(probs.argmax(axis=1) == labels))
