"""Cloak itself, started in front of one store: `cloak serve --config FILE`.

Everything the proxy needs is written into a fresh scratch directory: a local keyring
(made by `cloak keys init`), the upstream and client secrets (0600 files the config
names through `*_file` fields, never on the command line) and the TOML config. With
`tls`, Cloak serves HTTPS with the harness's test certificate; when the store itself
serves HTTPS, its CA bundle becomes `upstream.ca_file`.

start_cloak() returns once Cloak answers an HTTP request (over TLS when it serves TLS).
Cloak's stderr (its tracing log) stays in the scratch directory; log_tail() gives the
end of it for failure messages.
"""

import secrets
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import procs, scratch
from .clients import Endpoint, clean_env
from .ports import LOOPBACK
from .stores import Store
from .tls import TlsFiles

# Cloak's default segment size (docs/FORMAT.md), which the tests' offset arithmetic uses.
SEGMENT_SIZE = 65_536
# Per-unit overhead (locator and tag) and the trailer at the end of every stored object.
UNIT_OVERHEAD = 32
TRAILER_SIZE = 96

# Per-request debug records make a failed request traceable in the log.
_LOG_FILTER = "info,cloak_proxy=debug"


@dataclass
class Cloak:
    """A running proxy, the store behind it, and how clients reach it."""

    proc: procs.Proc
    store: Store
    endpoint: Endpoint
    config_path: Path
    tls: TlsFiles | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def log_path(self) -> Path:
        return self.proc.stderr_log

    def log_tail(self, lines: int = 40) -> str:
        return self.proc.log_tail(lines)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.alive()

    def stop(self) -> None:
        self.proc.stop()

    def __enter__(self) -> "Cloak":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def start_cloak(
    binary: Path,
    store: Store,
    *,
    tls: TlsFiles | None = None,
    access_key: str | None = None,
) -> Cloak:
    """Start Cloak on a free loopback port in front of `store` and wait until it accepts
    connections. Raises procs.ProcessFailed, with Cloak's log tail, if it does not."""
    home = scratch.new_dir(f"cloak-{store.kind}")
    access_key = access_key or f"cloak-client-{secrets.token_hex(4)}"
    client_secret = _private_file(home / "client-secret", secrets.token_urlsafe(30))
    upstream_secret = _private_file(home / "upstream-secret", store.secret_key)
    keyring = home / "keyring.toml"
    procs.run([str(binary), "keys", "init", "--keyring", str(keyring)], env=clean_env(home))

    config_path = home / "cloak.toml"
    env = clean_env(home)
    env["CLOAK_LOG"] = _LOG_FILTER
    env["NO_COLOR"] = "1"

    def argv(port: int) -> list[str]:
        config_path.write_text(
            _config_text(
                port,
                store,
                tls=tls,
                access_key=access_key,
                client_secret=client_secret,
                upstream_secret=upstream_secret,
                keyring=keyring,
            )
        )
        return [str(binary), "serve", "--config", str(config_path)]

    scheme = "https" if tls else "http"

    # Any S3 answer (an anonymous GET / is refused with 403) means Cloak is serving.
    def ready(port: int) -> bool:
        return _answers(f"{scheme}://{LOOPBACK}:{port}/", tls.ca_bundle if tls else None)

    proc = procs.start_listening(f"cloak-{store.kind}", argv, env=env, cwd=home, ready=ready)
    endpoint = Endpoint(
        url=f"{scheme}://{LOOPBACK}:{proc.port}",
        access_key=access_key,
        secret_key=client_secret.read_text(),
        region=store.region,
        ca_bundle=tls.ca_bundle if tls else None,
    )
    return Cloak(proc, store, endpoint, config_path, tls)


def stored_size(plaintext_size: int, segment: int = SEGMENT_SIZE) -> int:
    """Bytes the store holds for an object of `plaintext_size` bytes (docs/FORMAT.md).

    Exact for a single PUT, and for a multipart upload whose non-final parts are whole
    segments, which is what Cloak requires.
    """
    units = max(1, -(-plaintext_size // segment))
    return plaintext_size + UNIT_OVERHEAD * units + TRAILER_SIZE


def _config_text(
    port: int,
    store: Store,
    *,
    tls: TlsFiles | None,
    access_key: str,
    client_secret: Path,
    upstream_secret: Path,
    keyring: Path,
) -> str:
    lines = ["[server]", f'listen = "{LOOPBACK}:{port}"']
    if tls:
        lines += ["", "[server.tls]", f'cert_file = "{tls.cert}"', f'key_file = "{tls.key}"']
    lines += [
        "",
        "[upstream]",
        f'endpoint = "{store.url}"',
        f'region = "{store.region}"',
        f'access_key_id = "{store.access_key}"',
        f'secret_access_key_file = "{upstream_secret}"',
    ]
    if store.ca_bundle:
        lines.append(f'ca_file = "{store.ca_bundle}"')
    lines += [
        "",
        "[[clients]]",
        f'access_key_id = "{access_key}"',
        'name = "conformance"',
        f'secret_key_file = "{client_secret}"',
        "",
        "[keys]",
        f'keyring_path = "{keyring}"',
        "",
    ]
    return "\n".join(lines)


def _answers(url: str, ca_bundle: Path | None) -> bool:
    context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None
    try:
        with urllib.request.urlopen(url, timeout=2.0, context=context):
            return True
    except urllib.error.HTTPError as err:
        return err.headers.get("x-amz-request-id") is not None
    except OSError:
        return False


def _private_file(path: Path, text: str) -> Path:
    path.touch(mode=0o600)
    path.write_text(text)
    return path
