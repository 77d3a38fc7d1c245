"""The studio started the default ways listens on loopback only; the launcher hands out a token when shared.

The listening sockets are read from /proc/net/tcp{,6}; nothing is ever sent to
an address other than 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from studio_ui import gate, serve

REPO = Path(__file__).resolve().parents[2]
LISTEN = "0A"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _address(hex_addr: str) -> str:
    """A /proc/net/tcp address (hex, each 32-bit word little-endian) as text."""
    raw = bytes.fromhex(hex_addr)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def listening(port: int) -> list[str]:
    """Addresses with a TCP socket listening on `port`, IPv4 and IPv6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            hex_addr, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == LISTEN:
                found.append(_address(hex_addr))
    return found


def is_loopback(address: str) -> bool:
    return address.removeprefix("::ffff:") in ("::1",) or address.removeprefix("::ffff:").startswith("127.")


def test_proc_net_parsing_sees_a_socket_on_every_interface():
    """The check below can fail: a socket bound to 0.0.0.0 is seen as such."""
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        assert listening(port) == ["0.0.0.0"] and not is_loopback("0.0.0.0")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert listening(s.getsockname()[1]) == ["127.0.0.1"]


def _start(cmd: list[str], log: Path, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.3)
    _stop(proc)
    raise AssertionError(f"no answer on port {port}:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("way", ["make run (the launcher)", "streamlit run app.py"])
def test_the_default_server_listens_on_loopback_only(tmp_path, way):
    port = free_port()
    if way.startswith("make"):
        cmd = [sys.executable, "-m", "studio_ui.serve", "--port", str(port)]
    else:  # no --server.address: the repo's .streamlit/config.toml decides
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MNIST_STUDIO_") and not k.startswith("STREAMLIT_")}
    env.update(MNIST_STUDIO_MODELS=str(tmp_path / "models"), MNIST_STUDIO_RUNS=str(tmp_path / "runs"))
    proc = _start(cmd, tmp_path / "server.log", port, env)
    try:
        addresses = listening(port)
        assert addresses and all(is_loopback(a) for a in addresses), addresses
    finally:
        _stop(proc)
    if way.startswith("make"):
        assert "on this machine only" in (tmp_path / "server.log").read_text()


def test_the_launcher_makes_a_token_for_a_shared_server_and_keeps_it_off_the_command_line(monkeypatch):
    monkeypatch.setattr(serve, "_secret", lambda name: None)
    argv, env, banner = serve.plan("0.0.0.0", 8600, {"PATH": "/bin"}, [])
    token = env[gate.TOKEN_ENV]
    assert len(token) >= 32 and token not in " ".join(argv)
    assert argv[argv.index("--server.address") + 1] == "0.0.0.0"
    assert f"http://127.0.0.1:8600/?token={token}" in banner
    assert serve.plan("0.0.0.0", 8600, {}, [])[1][gate.TOKEN_ENV] != token  # fresh each start


def test_the_launcher_never_prints_a_token_it_was_given(monkeypatch):
    monkeypatch.setattr(serve, "_secret", lambda name: None)
    argv, env, banner = serve.plan("0.0.0.0", 8600, {gate.TOKEN_ENV: "given-token"}, [])
    assert env[gate.TOKEN_ENV] == "given-token" and "given-token" not in banner and "?token=" not in banner


def test_the_launcher_on_loopback_needs_no_token(monkeypatch):
    monkeypatch.setattr(serve, "_secret", lambda name: None)
    argv, env, banner = serve.plan("127.0.0.1", 8600, {}, ["--server.headless", "true"])
    assert gate.TOKEN_ENV not in env and "this machine only" in banner
    assert argv[-2:] == ["--server.headless", "true"]
    assert gate.TOKEN_ENV in serve.plan("127.0.0.1", 8600, {gate.REQUIRE_ENV: "1"}, [])[1]


def test_the_makefile_run_target_honours_host():
    text = (REPO / "Makefile").read_text()
    assert "HOST ?= 127.0.0.1" in text and "-m studio_ui.serve --host $(HOST) --port $(PORT)" in text


def test_the_servers_dispatcher_thread_starts_what_waits_and_stops(tmp_path, monkeypatch):
    """Pages only read the runs folder; the server's one dispatcher thread starts what waited before a restart,
    and takes a place back when its run ended without anyone dispatching (issue 28 §1)."""
    import threading

    from mnist_core.training import queue, rundir
    from mnist_core.training.config import TrainConfig

    monkeypatch.setenv("MNIST_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv(queue.ENV, "1")
    config = TrainConfig.for_model("numpy_softmax", epochs=1)
    first, second = (rundir.RunDir.create(config, pid=os.getpid(), created=float(i)) for i in range(2))  # waiting

    def admitted(run) -> bool:
        return bool(run.raw_status().get("admitted"))

    def wait_for(condition, what: str) -> None:
        deadline = time.time() + 30
        while not condition():
            assert time.time() < deadline, f"timed out waiting for {what}"
            time.sleep(0.02)

    stop = threading.Event()
    thread = serve.start_dispatcher(every_s=0.05, stop=stop)
    try:
        wait_for(lambda: admitted(first), "the first run to be admitted")
        assert not admitted(second)
        first.write_status("interrupted")  # its process died: nobody dispatched on its way out
        wait_for(lambda: admitted(second), "the second run to take the freed place")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and thread.daemon
