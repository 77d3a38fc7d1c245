"""Decode and preprocess a large collection on Ray (a cluster, or a local Ray) instead of this machine's pool.

process_on_ray(named, reading._process_chunk, draft) gives exactly what
reading.process_many gives, in the same order: the same process_bytes runs on
every chunk, only where it runs changes. The bytes travel through Ray's object store, so the nodes need no
shared filesystem; the code travels with the job (cluster.connect). Each
chunk also says which node read it, so a report can tell how the work spread.
"""

from __future__ import annotations

from mnist_core import cluster

CHUNK = 32  # files per task: large enough that Ray's per-task cost (a few ms) stays small beside decoding


def _read_chunk(work, chunk: list, draft: int | None) -> tuple[str, list]:
    import ray

    return ray.get_runtime_context().get_node_id(), work(chunk, draft)


def process_on_ray(named: list, work, draft: int | None, address: str | None = None, progress=None,
                   chunk: int = CHUNK) -> tuple[list, dict]:
    """work(chunk, draft) over [(name, bytes)] in chunks as Ray tasks; the results in order, and
    {address, nodes, nodes_used, chunks}. `work` is reading's chunk reader (passed in, so this module
    needs nothing from reading)."""
    import ray

    info = cluster.connect(address)
    # SPREAD: chunks go to every node rather than filling the driver's first; a lost node's chunks are retried.
    task = ray.remote(num_cpus=1, max_retries=2, scheduling_strategy="SPREAD")(_read_chunk)
    refs = [task.remote(work, named[i:i + chunk], draft) for i in range(0, len(named), chunk)]
    index = {ref: i for i, ref in enumerate(refs)}
    parts: list = [None] * len(refs)
    pending, done = list(refs), 0
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            parts[index[ref]] = ray.get(ref)
            done += len(parts[index[ref]][1])
        if progress:
            progress(done, len(named))
    results = [r for _, rs in parts for r in rs]
    used = sorted({node for node, _ in parts})
    return results, {"address": info["address"], "nodes": info["nodes"], "nodes_used": len(used), "chunks": len(refs)}
