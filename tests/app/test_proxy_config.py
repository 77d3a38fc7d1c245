"""The proxy's nginx configuration, the processes' gate and the heap settling, without starting anything.

tests/browser/test_proxy.py starts the real thing; these check what it is made of.
"""

from __future__ import annotations

import gc
import re
import subprocess
import sys

import pytest

from studio_ui import gate, heap, proxy, serve, workers

PORTS = [8611, 8612, 8613]


def test_the_config_pins_by_cookie_upgrades_websockets_and_lets_uploads_through(tmp_path):
    text = proxy.config(PORTS, "0.0.0.0", 8600, tmp_path)
    assert "listen 8600;" in text
    assert re.findall(r"server (127\.0\.0\.1:\d+);", text.split("upstream studio_any")[1].split("}")[0]) == \
        [f"127.0.0.1:{p}" for p in PORTS]  # new browsers go to any process, by fewest connections
    for i, port in enumerate(PORTS):  # a cookie names a process; the process that answered is named back
        assert f'"w{i}" studio_w{i};' in text and f'"127.0.0.1:{port}" w{i};' in text
    assert "default studio_any;" in text  # anything else picks anew: never a client-chosen address
    assert "proxy_set_header Upgrade $http_upgrade;" in text and "$connection_upgrade" in text
    assert f"client_max_body_size {proxy.UPLOAD_MB}m;" in text
    assert "listen 127.0.0.1:8600;" in proxy.config(PORTS, "127.0.0.1", 8600, tmp_path)


def test_nginx_accepts_the_config(tmp_path):
    exe = proxy.available()
    if exe is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    conf = proxy.prepare(tmp_path / "p", proxy.config(PORTS, "127.0.0.1", 8600, tmp_path / "p"))
    check = subprocess.run([exe, "-p", str(conf.parent), "-c", str(conf), "-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("host, env, gated", [
    ("127.0.0.1", {}, False),
    ("0.0.0.0", {gate.TOKEN_ENV: "t"}, True),
    ("192.0.2.1", {}, True),  # shared with no token yet: the processes must still refuse everyone
    ("127.0.0.1", {gate.TOKEN_ENV: "t"}, True),
])
def test_the_processes_gate_whenever_the_proxy_is_shared(host, env, gated):
    assert gate.forced(workers.worker_env(env, host)) is gated


def test_workers_without_nginx_say_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setattr(proxy, "available", lambda: None)
    with pytest.raises(SystemExit) as stop:
        serve.main(["--workers", "2", "--port", "8600"])
    assert stop.value.code == 2
    assert "apt-get install nginx" in capsys.readouterr().err


def test_settle_freezes_the_heap_and_keeps_keras_state(monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    monkeypatch.setattr(script_runner, "_clean_problem_modules", script_runner._clean_problem_modules)
    cleared = []
    keras = type(sys)("keras")
    keras.backend = type(sys)("keras.backend")
    keras.backend.clear_session = lambda: cleared.append(True)
    monkeypatch.setitem(sys.modules, "keras", keras)
    try:
        heap.settle()
        assert gc.get_freeze_count() > 0
        script_runner._clean_problem_modules()  # what Streamlit calls after every script run
        assert cleared == []
    finally:
        gc.unfreeze()


def test_streamlits_bundle_is_sent_by_nginx_when_it_may_read_it(tmp_path):
    folder = proxy.static_folder()
    assert folder is not None and (folder / "js").is_dir() and any((folder / "js").glob("*.js"))
    text = proxy.config(PORTS, "127.0.0.1", 8600, tmp_path, static=folder)
    assert f"location /static/ {{\n            alias {folder}/;" in text
    # the page, the websocket and everything else still go to the processes
    assert "location / {\n            proxy_pass http://$studio_pool;" in text
    assert "location /static/" not in proxy.config(PORTS, "127.0.0.1", 8600, tmp_path)
