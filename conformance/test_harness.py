"""Smoke tests for the harness itself: every client against every store, no proxy.

If one of these fails, the conformance tests that put Cloak in between cannot be
trusted either, so they are worth keeping green on their own.
"""

import base64
import dataclasses
import json
import os
import socket
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from harness import clients, ports, procs, scratch, stores, tls
from harness.tls import S3_HOST
from harness.tunnel import Tunnel

STORES = ["moto_store", "rclone_store", "rclone_tls_store"]


@pytest.fixture(params=STORES)
def store(request) -> stores.Store:
    return request.getfixturevalue(request.param)


@pytest.fixture
def bucket(store, bucket_name) -> str:
    return store.make_bucket(bucket_name)


@pytest.fixture
def payload() -> bytes:
    # Not a multiple of any chunk or block size, so short reads and padding show up.
    return os.urandom(300_001)


def checksum_mode(store: stores.Store) -> str:
    # rclone's server fails two things botocore does by default (test_rclone_quirks),
    # so against rclone checksums are sent and validated only when required.
    return "when_required" if store.kind == "rclone" else "when_supported"


def test_boto3_put_get_list(store, bucket, payload):
    client = clients.boto3_client(store.endpoint, checksum=checksum_mode(store))

    client.put_object(Bucket=bucket, Key="dir/object.bin", Body=payload)

    assert client.get_object(Bucket=bucket, Key="dir/object.bin")["Body"].read() == payload
    listed = client.list_objects_v2(Bucket=bucket, Prefix="dir/")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("dir/object.bin", len(payload))]


def test_boto3_presigned_get_is_sigv4(store, bucket, payload):
    store.raw_client().put_object(Bucket=bucket, Key="shared.bin", Body=payload)
    client = clients.boto3_client(store.endpoint, checksum=checksum_mode(store))

    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared.bin"}, ExpiresIn=300
    )

    assert "X-Amz-Signature=" in url
    context = ssl.create_default_context(cafile=store.ca_bundle) if store.ca_bundle else None
    with urllib.request.urlopen(url, context=context, timeout=30) as response:
        assert response.read() == payload


def test_aws_cli_cp_up_and_down(store, bucket, payload):
    aws = clients.aws_cli(store.endpoint, checksum=checksum_mode(store))
    work = scratch.new_dir("aws-cp")
    (work / "up.bin").write_bytes(payload)

    aws.run("s3", "cp", str(work / "up.bin"), f"s3://{bucket}/aws.bin")
    aws.run("s3", "cp", f"s3://{bucket}/aws.bin", str(work / "down.bin"))

    assert (work / "down.bin").read_bytes() == payload
    listing = aws.run("s3", "ls", f"s3://{bucket}/").stdout
    assert "aws.bin" in listing


def test_s3fs_ranged_read(store, bucket, payload):
    fs = clients.s3fs_filesystem(store.endpoint, checksum=checksum_mode(store))
    fs.pipe_file(f"{bucket}/fs.bin", payload)

    assert fs.cat_file(f"{bucket}/fs.bin", start=1000, end=1010) == payload[1000:1010]
    with fs.open(f"{bucket}/fs.bin", "rb", block_size=64 * 1024) as handle:
        handle.seek(200_000)
        assert handle.read(70_000) == payload[200_000:270_000]
    assert fs.info(f"{bucket}/fs.bin")["size"] == len(payload)


def test_rclone_copy_and_check(store, bucket, payload):
    rclone = clients.rclone(store.endpoint)
    work = scratch.new_dir("rclone-copy")
    (work / "a.bin").write_bytes(payload)
    (work / "b.txt").write_text("second file\n")
    remote = f"{clients.RCLONE_REMOTE}:{bucket}/copied"

    rclone.run("copy", str(work), remote)

    rclone.run("check", str(work), remote)
    assert store.raw_client().get_object(Bucket=bucket, Key="copied/b.txt")["Body"].read() == (
        b"second file\n"
    )


def test_s5cmd_cp_up_and_down(store, bucket, payload):
    s5cmd = clients.s5cmd(store.endpoint)
    work = scratch.new_dir("s5cmd-cp")
    (work / "up.bin").write_bytes(payload)

    s5cmd.run("cp", str(work / "up.bin"), f"s3://{bucket}/s5.bin")
    s5cmd.run("cp", f"s3://{bucket}/s5.bin", str(work / "down.bin"))

    assert (work / "down.bin").read_bytes() == payload


def test_gsutil_cp_up_and_down(store, bucket, payload):
    if store.endpoint.is_tls:
        # boto sends CONNECT s3.us-east-1.cloak.test:443; the tunnel leads to the store.
        tunnel = Tunnel((ports.LOOPBACK, store.endpoint.port))
        gsutil = clients.gsutil(store.endpoint, proxy=tunnel.address)
    else:
        tunnel = None
        gsutil = clients.gsutil(store.endpoint)
    work = scratch.new_dir("gsutil-cp")
    (work / "up.bin").write_bytes(payload)

    try:
        gsutil.run("cp", str(work / "up.bin"), f"s3://{bucket}/gs.bin")
        gsutil.run("cp", f"s3://{bucket}/gs.bin", str(work / "down.bin"))
    finally:
        if tunnel:
            tunnel.close()

    assert (work / "down.bin").read_bytes() == payload
    if tunnel:
        assert tunnel.connections > 0


def test_bao_transit_datakey(bao_server):
    key = bao_server.transit_key

    made = bao_server.api("POST", f"transit/datakey/plaintext/{key}")["data"]
    opened = bao_server.api("POST", f"transit/decrypt/{key}", {"ciphertext": made["ciphertext"]})

    assert len(base64.b64decode(made["plaintext"])) == 32
    assert made["ciphertext"].startswith("vault:v1:")
    assert opened["data"]["plaintext"] == made["plaintext"]


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", S3_HOST, f"bucket.{S3_HOST}"])
def test_tls_certificate_names(rclone_tls_store, name):
    context = ssl.create_default_context(cafile=rclone_tls_store.ca_bundle)
    address = (ports.LOOPBACK, rclone_tls_store.endpoint.port)

    with socket.create_connection(address, timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls_sock:
            assert tls_sock.version() in ("TLSv1.2", "TLSv1.3")


# Each command-line client's cheapest request, for checks that only need a connection.
LIST_ARGS = {
    "aws": lambda bucket: ("s3", "ls", f"s3://{bucket}/"),
    "s5cmd": lambda bucket: ("ls", f"s3://{bucket}/*"),
    "rclone": lambda bucket: ("lsf", f"{clients.RCLONE_REMOTE}:{bucket}"),
    "gsutil": lambda bucket: ("ls", f"s3://{bucket}/"),
}


@pytest.mark.parametrize("client", sorted(LIST_ARGS))
def test_tls_clients_use_the_given_ca(rclone_tls_store, bucket_name, client):
    """A CA other than the server's is refused, so the CA bundle is really in use."""
    rclone_tls_store.make_bucket(bucket_name)
    other_ca = tls.make_server_cert().ca_bundle
    endpoint = dataclasses.replace(rclone_tls_store.endpoint, ca_bundle=other_ca)

    with Tunnel((ports.LOOPBACK, endpoint.port)) as tunnel:
        tool = {
            "aws": lambda: clients.aws_cli(endpoint),
            "s5cmd": lambda: clients.s5cmd(endpoint),
            "rclone": lambda: clients.rclone(endpoint),
            "gsutil": lambda: clients.gsutil(endpoint, proxy=tunnel.address),
        }[client]()
        with pytest.raises(procs.ToolFailed, match="(?i)certificate|x509"):
            tool.run(*LIST_ARGS[client](bucket_name), timeout=60)


def test_rclone_quirks(rclone_store, rclone_tls_store, bucket_name, payload):
    """Behaviours of rclone's server that the checksum_mode() choice works around."""
    plain = clients.boto3_client(rclone_store.endpoint, checksum="when_supported")
    plain.create_bucket(Bucket=bucket_name)
    plain.put_object(Bucket=bucket_name, Key="k", Body=payload)

    # A ranged GET carries the whole object's CRC32, which botocore checks the range
    # against.
    ranged = plain.get_object(Bucket=bucket_name, Key="k", Range="bytes=0-9")
    with pytest.raises(Exception, match="did not match calculated checksum"):
        ranged["Body"].read()

    # Over HTTPS botocore uploads aws-chunked, without a Content-Length.
    over_tls = clients.boto3_client(rclone_tls_store.endpoint, checksum="when_supported")
    over_tls.create_bucket(Bucket=bucket_name)
    with pytest.raises(over_tls.exceptions.ClientError, match="MissingContentLength"):
        over_tls.put_object(Bucket=bucket_name, Key="k", Body=payload)


def test_stopped_server_leaves_nothing_behind():
    store = stores.start_moto()
    pid, port = store.proc.popen.pid, store.proc.port

    store.stop()

    assert not ports.is_accepting(port)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert store.proc not in procs.running()


def test_serve_runs_a_store_until_stdin_closes():
    """The entry point for non-Python tests: one JSON line, then serve until EOF."""
    child = subprocess.Popen(
        [sys.executable, "-m", "harness.serve", "moto"],
        cwd=Path(__file__).parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        described = json.loads(child.stdout.readline())
        endpoint = clients.Endpoint(
            described["url"], described["access_key"], described["secret_key"]
        )
        assert clients.boto3_client(endpoint).list_buckets()["Buckets"] == []

        child.stdin.close()

        assert child.wait(timeout=30) == 0
        assert not ports.is_accepting(int(described["url"].rsplit(":", 1)[1]))
    finally:
        child.kill()
        child.wait()
