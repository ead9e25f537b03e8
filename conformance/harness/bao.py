"""OpenBao in dev mode with the transit engine on and one key, as the proxy's key service.

Dev mode keeps everything in memory and starts unsealed, so each server is a fresh key
service that forgets all its keys when stopped. Setup runs through the `bao` CLI, as an
operator would; tests talk to the HTTP API directly.
"""

import json
import secrets
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import procs, scratch, tools
from .clients import clean_env
from .ports import LOOPBACK


@dataclass
class Bao:
    """A running dev-mode OpenBao: its address, root token and transit key name."""

    addr: str
    token: str
    transit_key: str
    proc: procs.Proc
    home: Path

    def env(self) -> dict[str, str]:
        """Environment for the `bao` CLI (and Vault-compatible tools) to reach it."""
        env = clean_env(self.home)
        for prefix in ("BAO", "VAULT"):
            env[f"{prefix}_ADDR"] = self.addr
            env[f"{prefix}_TOKEN"] = self.token
        return env

    def cli(self, *args: str):
        """Run `bao ARGS...` against this server; raises procs.ToolFailed on failure."""
        return procs.run([tools.path("bao"), *args], env=self.env(), timeout=60)

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        """Call the HTTP API at /v1/PATH with the root token; the decoded JSON reply."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.addr}/v1/{path}",
            data=data,
            method=method,
            headers={"X-Vault-Token": self.token, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else {}

    def stop(self) -> None:
        self.proc.stop()

    def __enter__(self) -> "Bao":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def start_bao(transit_key: str = "cloak-test") -> Bao:
    """Start `bao server -dev` on a free port, enable transit and create `transit_key`."""
    home = scratch.new_dir("bao")
    token = secrets.token_hex(16)
    env = clean_env(home)
    # Through the environment rather than -dev-root-token-id, so the token is not
    # visible in the process list.
    env["BAO_DEV_ROOT_TOKEN_ID"] = token

    # Dev mode also binds the next port up for cluster traffic. If that one is taken
    # the server exits, and start_listening tries again on another port.
    def argv(port: int) -> list[str]:
        listen = f"-dev-listen-address={LOOPBACK}:{port}"
        # The token helper would otherwise write ~/.vault-token.
        return [tools.path("bao"), "server", "-dev", listen, "-dev-no-store-token"]

    proc = procs.start_listening("bao", argv, env=env, cwd=home, ready=_active)
    bao = Bao(f"http://{LOOPBACK}:{proc.port}", token, transit_key, proc, home)
    try:
        bao.cli("secrets", "enable", "transit")
        bao.cli("write", "-f", f"transit/keys/{transit_key}")
    except procs.ToolFailed:
        bao.stop()
        raise
    return bao


def _active(port: int) -> bool:
    # Sealed, standby and uninitialised servers answer with error codes, which urlopen
    # raises; only an active, unsealed server gives 200.
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/v1/sys/health", timeout=2):
            return True
    except OSError:
        return False
