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

# Cloak bugs found by this suite, keyed by store; see targets() and docs/COMPATIBILITY.md.
RCLONE_RANGE_200 = (
    "rclone serve s3 answers a Range GET with 200 (not 206) plus a correct Content-Range; "
    "Cloak's probe (proxy/src/ops/probe.rs, extent()) then takes Content-Length (96, the "
    "suffix it asked for) as the stored length, so every HEAD and GET of an object fails "
    "with 500 InternalError 'stored length disagrees with the trailer' / 'stored length 96 "
    "is impossible for this format'"
)
RCLONE_INITIATE_ROOT = (
    "rclone serve s3 answers CreateMultipartUpload with root element "
    "<InitiateMultipartUpload> (S3: <InitiateMultipartUploadResult>); Cloak's "
    "InitiateResult::parse (proxy/src/xml/results.rs) insists on S3's root name, so every "
    "multipart upload fails at Create with 502 ServiceUnavailable 'The store's "
    "InitiateMultipartUpload answer is unreadable' (botocore ignores the root name)"
)


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


def target_params(*, reads: bool = True, multipart: bool = False) -> list:
    """pytest params for the `target` fixture, one per pair, with the known Cloak bugs as
    strict expected failures. `reads`: the test reads objects back through Cloak (all but
    write-only tests do); `multipart`: the test makes multipart uploads."""
    params = []
    for store, scheme in PAIRS:
        reasons = []
        if store == "rclone" and reads:
            reasons.append(RCLONE_RANGE_200)
        if store == "rclone" and multipart:
            reasons.append(RCLONE_INITIATE_ROOT)
        marks = [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []
        params.append(pytest.param((store, scheme), id=f"{store}-{scheme}", marks=marks))
    return params
