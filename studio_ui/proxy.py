"""Several Streamlit processes behind one nginx: a class shares the machine's cores.

One Streamlit process runs every session's script in one Python process, so
one session's work holds the others up (the GIL). `python -m studio_ui.serve
--workers N` (`make run WORKERS=N`) starts N of them on 127.0.0.1 and this
module's nginx in front, on HOST:PORT. A browser is pinned to one process for
good: its first request goes to the process with the fewest open connections
(each session holds a websocket), and the answer sets a cookie naming that
process; every later request (the websocket, uploads, images, which live in
that process's memory) follows the cookie. A cookie that names no process is
treated as none. A process that stops answering hands its browsers to the
next one, which asks them to sign in again (sessions live in a process).

What all processes share lives on disk and is already safe between
processes: the model store (its lock), the runs folder and the run queue
(training/queue.py's lock), the personal collection. The token and the
visitor role are checked in every process the same way (studio_ui/gate.py);
the processes listen on loopback only, so the gate is forced on in them
whenever the proxy is shared (serve.py).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
from pathlib import Path

NGINX = "nginx"
COOKIE = "mnist_studio_worker"
UPLOAD_MB = 200  # Batch's upload limit (.streamlit/config.toml maxUploadSize): nginx must let it through

_TEMPLATE = """\
# Written by studio_ui/proxy.py for one `python -m studio_ui.serve --workers {n}`; not meant to be edited.
{user}pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
worker_processes 1;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # The browser's cookie names its process; anything else (no cookie, a stale or forged one) picks anew.
    map $cookie_{cookie} $studio_pool {{
        default studio_any;
{pinned}
    }}
    # The process that answered, as the cookie's value (no value when more than one was tried).
    map $upstream_addr $studio_worker {{
        default "";
{names}
    }}
    upstream studio_any {{
        least_conn;
{servers}
    }}
{singles}
    server {{
        listen {listen};
        client_max_body_size {upload_mb}m;
        proxy_request_buffering off;
{static}        location / {{
            proxy_pass http://$studio_pool;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 1d;
            proxy_send_timeout 1d;
            proxy_buffering off;
            add_header Set-Cookie "{cookie}=$studio_worker; Path=/; HttpOnly; SameSite=Lax" always;
        }}
    }}
}}
"""


# Streamlit's own bundle: hashed file names, the same files for every process. nginx sends them itself, so a
# new browser's ~100 files (3 MB) cost the Python processes nothing (0.1 s of a core each time, measured).
_STATIC = """\
        location /static/ {{
            alias {folder}/;
            # Without these a module script comes as text/plain, and browsers refuse to run it.
            types {{ application/javascript js mjs; text/css css; font/woff2 woff2; image/png png; image/gif gif;
                    image/svg+xml svg; application/json json map; application/wasm wasm; }}
            default_type application/octet-stream;
            add_header Cache-Control "public, max-age=31536000, immutable";
        }}
"""


def static_folder() -> Path | None:
    """Streamlit's static/static folder (where /static/... is served from), when nginx's workers can read it
    (they run as nobody when started as root); None sends /static/ on to the processes as before."""
    spec = importlib.util.find_spec("streamlit")
    if spec is None or not spec.origin:
        return None
    folder = Path(spec.origin).parent / "static" / "static"
    if not (folder / "js").is_dir():
        return None
    if os.geteuid() == 0 and (any(not p.stat().st_mode & 0o001 for p in folder.parents)
                              or (folder / "js").stat().st_mode & 0o005 != 0o005):
        return None  # a folder on the way that others may not enter, or the bundle's they may not read
    return folder


def available() -> str | None:
    """The nginx executable's path, or None when it is not installed (apt-get install nginx)."""
    return shutil.which(NGINX) or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def _listen(host: str, port: int) -> str:
    if host in ("", "0.0.0.0"):
        return str(port)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def config(ports: list[int], host: str, port: int, prefix: Path, static: Path | None = None) -> str:
    """nginx.conf for the processes on 127.0.0.1:ports, listening on host:port, its files under prefix;
    Streamlit's bundle straight from `static` (static_folder()) when given."""
    addresses = [f"127.0.0.1:{p}" for p in ports]
    # Each process's own pool lists the others as backups: a dead process's browsers move on.
    singles = "\n".join(
        f"    upstream studio_w{i} {{\n        server {a};\n"
        + "".join(f"        server {b} backup;\n" for b in addresses if b != a) + "    }"
        for i, a in enumerate(addresses))
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    return _TEMPLATE.format(
        n=len(ports), user=user, prefix=prefix, cookie=COOKIE, upload_mb=UPLOAD_MB, listen=_listen(host, port),
        pinned="\n".join(f'        "w{i}" studio_w{i};' for i in range(len(ports))),
        names="\n".join(f'        "{a}" w{i};' for i, a in enumerate(addresses)),
        servers="\n".join(f"        server {a};" for a in addresses), singles=singles,
        static=_STATIC.format(folder=static) if static else "")


def prepare(prefix: Path, text: str) -> Path:
    """Write the config and the folders nginx writes into (its workers run as nobody when started as root)."""
    prefix.mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(prefix / sub, "nobody")
    conf = prefix / "nginx.conf"
    conf.write_text(text)
    return conf


def start(conf: Path, log) -> subprocess.Popen:
    """nginx in the foreground (its own process group), checked first so a bad config says why."""
    exe = available()
    if exe is None:
        raise RuntimeError("nginx is not installed: apt-get install nginx (Debian's package), or run one process")
    args = [exe, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"]
    check = subprocess.run([*args, "-t", "-q"], capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(f"nginx refused its configuration: {check.stderr.strip()}")
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a process started here and everything in its process group."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
