"""`python -m studio_ui.serve [--host H] [--port P]`: start the studio the way Jupyter starts a notebook.

On 127.0.0.1 (the default) it is `streamlit run app.py`. Beyond loopback it
needs a token: MNIST_STUDIO_TOKEN from the environment or .streamlit/secrets.toml,
or else a fresh one made here. A fresh token is printed once, as a ready-to-open
URL, and handed to the server through its environment (never on its command
line, where `ps` would show it). `make run HOST=0.0.0.0` calls this.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m studio_ui.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8501)
    args, extra = parser.parse_known_args(argv)
    command, env, banner = plan(args.host.strip(), args.port, dict(os.environ), extra)
    print(banner, flush=True)
    os.chdir(REPO)  # .streamlit/config.toml is read from the working folder
    os.execve(sys.executable, command, env)


if __name__ == "__main__":
    main()
