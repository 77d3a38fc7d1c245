"""The Keras side of training progress: a callback that reports to the observers.

Imported only by the Keras training path, so importing mnist_core.training
stays free of TensorFlow.
"""

from __future__ import annotations

import keras

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
