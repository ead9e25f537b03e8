"""Fixtures shared by the conformance suite: stores, key service, TLS files.

Servers are session-wide, since each takes up to a second to start; tests keep out of
each other's way by using their own bucket (the `bucket` fixture).
"""

import os
import re
import secrets
import sys
from pathlib import Path

import pytest

# Importable whatever directory pytest is started from.
sys.path.insert(0, str(Path(__file__).parent))

from harness import bao, procs, stores, tls  # noqa: E402


def pytest_configure(config):
    procs.install_signal_handlers()


def pytest_sessionfinish(session, exitstatus):
    procs.stop_all()


@pytest.fixture(scope="session")
def tls_files() -> tls.TlsFiles:
    return tls.make_server_cert()


@pytest.fixture(scope="session")
def moto_store():
    with stores.start_moto() as store:
        yield store


@pytest.fixture(scope="session")
def rclone_store():
    with stores.start_rclone() as store:
        yield store


@pytest.fixture(scope="session")
def rclone_tls_store(tls_files):
    with stores.start_rclone(tls=tls_files) as store:
        yield store


@pytest.fixture(scope="session")
def bao_server():
    with bao.start_bao() as server:
        yield server


@pytest.fixture
def bucket_name(request) -> str:
    """A bucket name no other test uses: the test's name, sanitised, and a suffix."""
    stem = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")
    return f"{stem[:50].rstrip('-')}-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def cloak_bin() -> Path:
    """The proxy binary named by CLOAK_BIN; tests that need it skip without it."""
    value = os.environ.get("CLOAK_BIN")
    if not value:
        pytest.skip("CLOAK_BIN is not set")
    path = Path(value)
    if not path.is_file():
        pytest.fail(f"CLOAK_BIN={value} is not a file")
    return path
