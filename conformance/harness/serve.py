"""Run one harness server for a program that is not Python, such as a Rust test.

    .venv/bin/python -m harness.serve moto|rclone|rclone-tls|bao   (from conformance/)

Prints one JSON line describing the server, then keeps it running until standard input
closes or SIGTERM arrives, and stops it. A test spawns this with a piped stdin and
reads the line; dropping the child's stdin ends the server, and if this process is
killed outright the server dies with it (procs' PR_SET_PDEATHSIG).

The line holds throw-away credentials: moto/rclone give url, access_key, secret_key,
region and ca_bundle (null without TLS); bao gives addr, token and transit_key.
"""

import json
import sys

from . import bao, procs, stores, tls


def _describe_store(store: stores.Store) -> dict:
    return {
        "url": store.url,
        "access_key": store.access_key,
        "secret_key": store.secret_key,
        "region": store.region,
        "ca_bundle": str(store.ca_bundle) if store.ca_bundle else None,
    }


def _start(kind: str) -> tuple[dict, object]:
    if kind == "moto":
        store = stores.start_moto()
        return _describe_store(store), store
    if kind == "rclone":
        store = stores.start_rclone()
        return _describe_store(store), store
    if kind == "rclone-tls":
        store = stores.start_rclone(tls=tls.make_server_cert())
        return _describe_store(store), store
    if kind == "bao":
        server = bao.start_bao()
        return {
            "addr": server.addr,
            "token": server.token,
            "transit_key": server.transit_key,
        }, server
    raise SystemExit(f"unknown server {kind!r}; expected moto, rclone, rclone-tls or bao")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    procs.install_signal_handlers()
    description, server = _start(argv[0])
    try:
        print(json.dumps(description), flush=True)
        # Blocks until the parent closes our stdin (or exits).
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
