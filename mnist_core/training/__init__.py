"""Training runs: TrainConfig, the loop and its Keras callback, schedules, run directories and run views."""
