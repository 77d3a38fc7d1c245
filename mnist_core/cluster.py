"""Ray, on this machine or a cluster: the one way every job that runs beyond this process connects.

Sweeps (training/sweep_ray.py) and bulk reading of large collections
(handwriting/on_ray.py) both call connect(). A cluster is named by an address
(`HOST:PORT` or `auto`) or by $MNIST_STUDIO_RAY_ADDRESS; without one, a local
Ray is started with this machine's cores and a small object store.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path

from mnist_core import cpu_env
from mnist_core.training.config import ConfigError

ADDRESS_ENV = "MNIST_STUDIO_RAY_ADDRESS"


class ClusterError(ConfigError):
    """The Ray cluster named by --address cannot be reached; the message says what to do."""


def address_from_env(address: str | None = None) -> str | None:
    """The address given, else $MNIST_STUDIO_RAY_ADDRESS, else None (a local Ray); "local" means None too."""
    address = address or os.environ.get(ADDRESS_ENV) or None
    return None if address == "local" else address


def connect(address: str | None = None) -> dict:
    """ray.init: the cluster at `address` (or $MNIST_STUDIO_RAY_ADDRESS), else a local Ray; returns a summary.

    Connecting twice in one process keeps the first connection (the dashboard reads many batches)."""
    import ray

    address = address_from_env(address)
    t0 = time.perf_counter()
    if not ray.is_initialized():
        _init(ray, address)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {"address": address or "local", "nodes": len(nodes), "start_seconds": round(time.perf_counter() - t0, 3),
            "cpus": ray.cluster_resources().get("CPU", 0)}


def _init(ray, address: str | None) -> None:
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **cpu_env.tensorflow_env()}  # oneDNN on workers too
    kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                  configure_logging=True)
    if address:
        _check_reachable(address)
        # The code travels with the job, so a remote node needs only Python and the pinned packages.
        try:
            ray.init(address=address, runtime_env={"py_modules": [str(Path(__file__).resolve().parent)],
                                                   "env_vars": env}, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ClusterError(f"cannot connect to the Ray cluster at {address!r} ({last_line(str(exc))}); "
                               "start one with `ray start --head`, or leave the address out for a local Ray") from None
        return
    cpus = int(os.environ.get("MNIST_STUDIO_RAY_CPUS", 0)) or os.cpu_count() or 1
    store_mb = int(os.environ.get("MNIST_STUDIO_RAY_OBJECT_STORE_MB", 256))
    ray.init(num_cpus=cpus, object_store_memory=store_mb * 2**20, runtime_env={"env_vars": env}, **kwargs)


def _check_reachable(address: str, timeout_s: float = 3.0) -> None:
    """A HOST:PORT that does not answer fails at once: ray.init would keep retrying it for minutes."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "ray://..." and the like: Ray resolves them itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ClusterError(f"no Ray cluster answers at {address!r} ({exc.strerror or exc}); start one with "
                           "`ray start --head`, or leave the address out for a local Ray") from None


def last_line(message: str) -> str:
    """The last non-empty line of an error (Ray's tracebacks end with the reason)."""
    lines = [line for line in str(message).strip().splitlines() if line.strip()]
    return (lines[-1] if lines else str(message))[:500]
