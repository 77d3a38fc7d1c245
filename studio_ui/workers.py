"""`python -m studio_ui.serve --workers N`: N Streamlit processes on loopback, nginx in front, one dispatcher.

This process supervises: it starts the N processes (`serve --worker`, each on
a free 127.0.0.1 port), waits until each answers, starts nginx on HOST:PORT
(studio_ui/proxy.py), runs the run queue's one dispatcher thread, and prints
the sign-in URL. When any of them stops, or on Ctrl-C / SIGTERM, it stops them
all. The processes get the token through their environment, and the gate
forced on whenever the studio is shared: they listen on loopback, where the
gate would otherwise let everyone in.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from studio_ui import gate, proxy

REPO = Path(__file__).resolve().parent.parent
START_S = 180  # each process imports Streamlit and the pages' libraries; on a busy 2-core machine, slowly


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def worker_env(env: dict[str, str], host: str) -> dict[str, str]:
    """A process's environment: the gate on whenever the proxy is shared or a token is set."""
    shared = not gate.is_loopback(host) or bool(env.get(gate.TOKEN_ENV, "").strip()) or gate.forced(env)
    return {**env, gate.REQUIRE_ENV: "1"} if shared else dict(env)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
            return reply.read().strip() == b"ok"
    except OSError:
        return False


def wait_until_up(procs: list[subprocess.Popen], ports: list[int], timeout: float = START_S) -> None:
    deadline = time.time() + timeout
    waiting = set(ports)
    while waiting:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a Streamlit process exited while starting (its error is above)")
        if time.time() > deadline:
            raise RuntimeError(f"Streamlit did not answer on port(s) {sorted(waiting)} within {timeout:.0f} s")
        waiting = {p for p in waiting if not _answers(p)}
        time.sleep(0.3)


def start_workers(ports: list[int], env: dict[str, str], extra: list[str]) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "studio_ui.serve", "--worker", "--host", "127.0.0.1",
                              "--port", str(port), *extra], cwd=REPO, env=env, start_new_session=True)
            for port in ports]


def serve(host: str, port: int, n: int, env: dict[str, str], banner: str, extra: list[str]) -> int:
    """Run until stopped; the exit status is 0 after Ctrl-C or SIGTERM, 1 when a process died."""
    from studio_ui import serve as serve_mod

    if proxy.available() is None:
        print("error: --workers needs nginx (apt-get install nginx); without it, run one process", file=sys.stderr)
        return 2
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    prefix = Path(tempfile.mkdtemp(prefix="mnist-studio-proxy-"))
    ports = free_ports(n)
    procs = start_workers(ports, worker_env(env, host), extra)
    try:
        wait_until_up(procs, ports)
        conf = proxy.config(ports, host, port, prefix, static=proxy.static_folder())
        procs.append(proxy.start(proxy.prepare(prefix, conf), None))
        serve_mod.start_dispatcher(stop=stopping)
        print(f"{banner}\n({n} Streamlit processes behind nginx; each browser stays with one)", flush=True)
        while not stopping.wait(0.5):
            if any(p.poll() is not None for p in procs):
                print("error: a studio process stopped; stopping the others", file=sys.stderr, flush=True)
                return 1
        return 0
    finally:
        for p in reversed(procs):
            proxy.stop(p)
        shutil.rmtree(prefix, ignore_errors=True)
