"""Local S3 stores to stand upstream of the proxy: moto's server and `rclone serve s3`.

Both listen on a free loopback port. Each store is one process; stop() ends it and a
context manager does the same. The stores differ in ways worth testing against: moto
keeps objects in memory and accepts any credentials, rclone keeps them as files under a
fresh directory and checks the SigV4 signature of every request.
"""

import secrets
from dataclasses import dataclass
from pathlib import Path

from . import procs, scratch, tools
from .clients import Endpoint, boto3_client, clean_env
from .ports import LOOPBACK
from .tls import TlsFiles


@dataclass
class Store:
    """A running S3 store and the credentials it accepts."""

    kind: str
    url: str
    access_key: str
    secret_key: str
    proc: procs.Proc
    data_dir: Path | None = None
    ca_bundle: Path | None = None
    region: str = "us-east-1"

    @property
    def endpoint(self) -> Endpoint:
        """How a client reaches this store directly."""
        return Endpoint(self.url, self.access_key, self.secret_key, self.region, self.ca_bundle)

    def raw_client(self):
        """A boto3 client talking straight to the store, path-style, for setting up
        and inspecting what the store holds.

        It sends checksums only when required, so that bodies go with a Content-Length:
        rclone's server answers MissingContentLength to the aws-chunked uploads that
        botocore makes over HTTPS by default.
        """
        return boto3_client(self.endpoint, checksum="when_required")

    def make_bucket(self, name: str) -> str:
        """Create a bucket (an existing one of ours is fine) and return its name."""
        client = self.raw_client()
        try:
            client.create_bucket(Bucket=name)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        return name

    def stop(self) -> None:
        self.proc.stop()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def start_moto(access_key: str = "cloak-moto", secret_key: str | None = None) -> Store:
    """moto_server on a free port. moto accepts any credentials; these are the ones
    clients should use, so that configs look like those for a real store."""
    secret_key = secret_key or secrets.token_hex(20)
    home = scratch.new_dir("moto")
    env = clean_env(home)
    # moto would read the first label of a host such as s3.us-east-1.cloak.test (what
    # gsutil sends) as a virtual-hosted bucket named "s3"; every client here uses
    # path-style, so host names never carry a bucket.
    env["S3_IGNORE_SUBDOMAIN_BUCKETNAME"] = "true"

    def argv(port: int) -> list[str]:
        return [tools.path("moto_server"), "-H", LOOPBACK, "-p", str(port)]

    # moto binds its port before its app has finished loading.
    def ready(port: int) -> bool:
        return procs.http_responds(f"http://{LOOPBACK}:{port}/moto-api/")

    proc = procs.start_listening("moto", argv, env=env, cwd=home, ready=ready)
    url = f"http://{LOOPBACK}:{proc.port}"
    return Store("moto", url, access_key, secret_key, proc)


def start_rclone(
    access_key: str = "cloak-rclone",
    secret_key: str | None = None,
    tls: TlsFiles | None = None,
) -> Store:
    """`rclone serve s3` over a fresh directory; buckets are its subdirectories.

    With `tls`, it serves HTTPS with that certificate, and the store's endpoint carries
    the CA bundle.
    """
    secret_key = secret_key or secrets.token_hex(20)
    home = scratch.new_dir("rclone-store")
    data_dir = home / "data"
    data_dir.mkdir()
    env = clean_env(home)
    # The secret goes through rclone's environment, never onto its command line. rclone
    # reads a list flag's variable as CSV, so the "key,secret" pair must be quoted.
    env["RCLONE_AUTH_KEY"] = f'"{access_key},{secret_key}"'
    (home / "rclone.conf").touch()

    def argv(port: int) -> list[str]:
        cmd = [tools.path("rclone"), "serve", "s3", "--addr", f"{LOOPBACK}:{port}"]
        cmd += ["--config", str(home / "rclone.conf")]
        if tls:
            cmd += ["--cert", str(tls.cert), "--key", str(tls.key)]
        return [*cmd, str(data_dir)]

    proc = procs.start_listening("rclone", argv, env=env, cwd=home)
    scheme = "https" if tls else "http"
    url = f"{scheme}://{LOOPBACK}:{proc.port}"
    ca_bundle = tls.ca_bundle if tls else None
    return Store("rclone", url, access_key, secret_key, proc, data_dir, ca_bundle)
