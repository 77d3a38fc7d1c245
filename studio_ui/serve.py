"""`python -m studio_ui.serve [--host H] [--port P]`: start the studio the way Jupyter starts a notebook.

On 127.0.0.1 (the default) it is `streamlit run app.py`. Beyond loopback it
needs a token: MNIST_STUDIO_TOKEN from the environment or .streamlit/secrets.toml,
or else a fresh one made here. A fresh token is printed once, as a ready-to-open
URL, and handed to the server through its environment (never on its command
line, where `ps` would show it). `make run HOST=0.0.0.0` calls this.
`--workers N` (`make run WORKERS=N`) starts N such processes behind nginx
(studio_ui/workers.py, studio_ui/proxy.py).

The server runs in this process, beside one small background thread: the run
queue's dispatcher (training/queue.py). Pages only read the runs folder; this
thread starts what waited in line before a restart and frees the places of
runs that died without a final status.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import threading
import tomllib
from pathlib import Path

from studio_ui import gate

REPO = Path(__file__).resolve().parent.parent
SECRETS = REPO / ".streamlit" / "secrets.toml"


def _secret(name: str) -> str | None:
    try:
        value = tomllib.loads(SECRETS.read_text()).get(name)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if value is None:
        return None
    return str(value).strip() or None


def _urls(host: str, port: int) -> list[str]:
    if host in ("", "0.0.0.0", "::"):  # every interface: this machine's name, and this machine
        return [f"http://{socket.gethostname()}:{port}/", f"http://127.0.0.1:{port}/"]
    return [f"http://{f'[{host}]' if ':' in host else host}:{port}/"]


def plan(host: str, port: int, env: dict[str, str], extra: list[str]) -> tuple[list[str], dict[str, str], str]:
    """The server's command line and environment, and what to print first."""
    env = dict(env)
    argv = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.address", host,
            "--server.port", str(port), *extra]
    urls = _urls(host, port)
    configured = env.get(gate.TOKEN_ENV, "").strip() or _secret(gate.TOKEN_ENV)
    if gate.is_loopback(host) and not configured and not gate.forced(env):
        return argv, env, f"MNIST Studio on this machine only: {urls[0]}"
    if configured:
        lines = [f"MNIST Studio is shared on {host or 'every interface'}; sign in with your {gate.TOKEN_ENV}:"]
        lines += [f"    {url}" for url in urls]
    else:
        token = secrets.token_urlsafe(24)
        env[gate.TOKEN_ENV] = token
        lines = [f"MNIST Studio is shared on {host or 'every interface'}. To sign in as an editor, open:"]
        lines += [f"    {url}?token={token}" for url in urls]
    if env.get(gate.VISITOR_TOKEN_ENV, "").strip() or _secret(gate.VISITOR_TOKEN_ENV):
        lines.append(f"Visitors (look, no changes) sign in with {gate.VISITOR_TOKEN_ENV}.")
    return argv, env, "\n".join(lines)


DISPATCH_EVERY_S = 5.0  # a place freed by a run that died unseen is taken again within this long


def start_dispatcher(every_s: float = DISPATCH_EVERY_S, stop: threading.Event | None = None) -> threading.Thread:
    """The server's one background dispatcher thread: dispatch now (what waited before a restart), then
    every `every_s` until `stop` is set. Launches, cancels and ending runs dispatch on their own."""
    from mnist_core.training import queue, rundir

    stop = stop or threading.Event()

    def dispatch_forever() -> None:
        said = None
        while True:
            try:
                queue.dispatch()
                said = None
            except (queue.QueueError, OSError) as exc:  # say it once, keep trying: the setting may be fixed
                if str(exc) != said:
                    print(f"the run queue cannot start waiting runs: {exc}", file=sys.stderr, flush=True)
                said = str(exc)
            rundir.reap()
            if stop.wait(every_s):
                return

    thread = threading.Thread(target=dispatch_forever, name="run-dispatcher", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m studio_ui.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--workers", type=int, default=1,
                        help="Streamlit processes behind nginx (2 or more: a class at once; see the README)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one of --workers' processes
    args, extra = parser.parse_known_args(argv)
    command, env, banner = plan(args.host.strip(), args.port, dict(os.environ), extra)
    if args.workers > 1:
        from studio_ui import workers

        sys.exit(workers.serve(args.host.strip(), args.port, args.workers, env, banner, extra))
    if not args.worker:  # the supervisor printed the address to open
        print(banner, flush=True)
    os.chdir(REPO)  # .streamlit/config.toml is read from the working folder
    os.environ.update(env)  # the token, if made here: in this process's environment, never on a command line
    if not args.worker:  # behind the proxy, its supervisor runs the one dispatcher for every process
        start_dispatcher()
    from streamlit.web import cli as streamlit_cli

    sys.argv = ["streamlit", *command[3:]]  # command is `python -m streamlit run app.py ...`: the same, in-process
    streamlit_cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
