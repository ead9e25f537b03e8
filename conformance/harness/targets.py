"""The matrix the through-Cloak tests run over: a store behind Cloak, and the scheme
clients use to reach Cloak.

- moto / http and moto / https: moto upstream over plain HTTP.
- rclone / http: `rclone serve s3` upstream over plain HTTP.
- rclone / https: `rclone serve s3` upstream over HTTPS too, so that Cloak verifies
  the store's certificate with `upstream.ca_file`.

Each pair gets one Cloak for the whole session (conftest's `cloaks` fixture); each test
gets fresh buckets in the store, created directly in the store, not through Cloak.
"""

import secrets
from dataclasses import dataclass

import pytest

from . import clients
from .cloak import Cloak
from .stores import Store

# (store, scheme) pairs, in table order.
PAIRS = [("moto", "http"), ("moto", "https"), ("rclone", "http"), ("rclone", "https")]

@dataclass
class Target:
    """One Cloak in front of one store, and a reference bucket in that store."""

    cloak: Cloak
    ref_bucket: str

    @property
    def store(self) -> Store:
        return self.cloak.store

    @property
    def store_kind(self) -> str:
        return self.cloak.store.kind

    @property
    def scheme(self) -> str:
        return self.cloak.scheme

    @property
    def endpoint(self) -> clients.Endpoint:
        """How clients reach Cloak."""
        return self.cloak.endpoint

    def new_bucket(self, stem: str) -> str:
        """A fresh bucket, made directly in the store."""
        name = f"{stem[:40].rstrip('-')}-{secrets.token_hex(4)}"
        return self.store.make_bucket(name)

    def observer(self):
        """A boto3 client through Cloak that checks what other clients wrote."""
        return clients.boto3_client(self.endpoint, checksum="when_required")

    def raw(self):
        """A boto3 client straight to the store, bypassing Cloak."""
        return self.store.raw_client()


def target_params(xfail: dict[str, str] | None = None) -> list:
    """pytest params for the `target` fixture, one per pair ("moto-http", ...). `xfail`
    maps a pair's id to the reason it is a known Cloak bug there: a strict expected
    failure, so that the fix shows up as a failure to remove the mark."""
    params = []
    for store, scheme in PAIRS:
        pair_id = f"{store}-{scheme}"
        reason = (xfail or {}).get(pair_id)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param((store, scheme), id=pair_id, marks=marks))
    return params
