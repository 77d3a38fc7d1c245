"""The proxy's nginx configuration, the processes' gate and the heap settling, without starting anything.

tests/browser/test_proxy.py starts the real thing; these check what it is made of.
"""

from __future__ import annotations

import gc
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

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


def test_streamlits_bundle_is_sent_by_nginx_when_given(tmp_path):
    folder = tmp_path / "streamlit" / "static" / "static"
    text = proxy.config(PORTS, "127.0.0.1", 8600, tmp_path, static=folder)
    assert f"location /static/ {{\n            alias {folder}/;" in text
    assert "application/javascript js" in text  # else a module script comes as text/plain and is not run
    # the page, the websocket and everything else still go to the processes
    assert "location / {\n            proxy_pass http://$studio_pool;" in text
    assert "location /static/" not in proxy.config(PORTS, "127.0.0.1", 8600, tmp_path)


def _fake_streamlit(root, monkeypatch):
    package = root / "site" / "streamlit"
    (package / "static" / "static" / "js").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.setattr(proxy.importlib.util, "find_spec",
                        lambda name: SimpleNamespace(origin=str(package / "__init__.py")))
    return package / "static" / "static"


def test_the_bundle_folder_is_the_installed_streamlits():
    folder = proxy.static_folder()
    if folder is not None:  # None where nginx's workers (nobody, when run as root) could not read it
        assert folder.parts[-3:] == ("streamlit", "static", "static") and any((folder / "js").glob("*.js"))


@pytest.fixture
def open_tmp():
    """A folder every user may enter (pytest's own tmp_path sits under a 0700 folder)."""
    root = Path(tempfile.mkdtemp(prefix="mnist-proxy-test-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root)


def test_the_bundle_stays_with_the_processes_when_nginx_could_not_read_it(open_tmp, monkeypatch):
    tmp_path = open_tmp
    folder = _fake_streamlit(tmp_path, monkeypatch)
    monkeypatch.setattr(proxy.os, "geteuid", lambda: 0)  # nginx's workers run as nobody
    for p in [folder, *folder.parents]:
        if p == tmp_path:
            break
        p.chmod(0o755)
    assert all(p.stat().st_mode & 0o001 for p in folder.parents)  # the test's own premise
    assert proxy.static_folder() == folder
    (tmp_path / "site").chmod(0o700)  # nobody may not enter a folder on the way
    assert proxy.static_folder() is None
    (tmp_path / "site").chmod(0o755)
    (folder / "js").chmod(0o711)  # nor read the bundle
    assert proxy.static_folder() is None
    (folder / "js").chmod(0o755)
    monkeypatch.setattr(proxy.os, "geteuid", lambda: 1000)  # not root: nginx's workers are this user
    (tmp_path / "site").chmod(0o700)
    assert proxy.static_folder() == folder
    (tmp_path / "site").chmod(0o755)
