"""A stored object changed behind Cloak's back must never reach a client as data: each
client's download of it fails, and no client is handed the altered bytes as good.

One byte of the ciphertext is flipped in the store (unit 3 of 5, so Cloak has already
sent the response headers and the first units when it finds out, and must cut the
response off). Cloak's log must record the failed check.
"""

import pytest

from harness import checks, clients, scratch
from harness.cloak import SEGMENT_SIZE, UNIT_OVERHEAD
from harness.ports import LOOPBACK
from harness.targets import target_params
from harness.tunnel import Tunnel

SIZE = 5 * SEGMENT_SIZE - 1000
# A byte in the middle of unit 3's ciphertext.
FLIPPED = 3 * (SEGMENT_SIZE + UNIT_OVERHEAD) + 16 + 500


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_tampered_object_is_refused(target, steps):
    bucket = target.new_bucket("tamper")
    data = checks.payload(SIZE)
    for key in ("k.bin", "intact.bin"):
        target.observer().put_object(Bucket=bucket, Key=key, Body=data)
    _flip_stored_byte(target, bucket, "k.bin", FLIPPED)
    work = scratch.new_dir("tamper")
    ep = target.endpoint
    tunnel = Tunnel((LOOPBACK, ep.port)) if ep.is_tls else None
    gsutil = clients.gsutil(ep, proxy=tunnel.address if tunnel else None)
    # client -> download(key, out)
    downloads = {
        "boto3 when_supported": lambda key, out: clients.boto3_client(ep).download_file(
            bucket, key, str(out)
        ),
        "aws-cli": lambda key, out: clients.aws_cli(ep).run(
            "s3", "cp", f"s3://{bucket}/{key}", str(out)
        ),
        "gsutil SigV4": lambda key, out: gsutil.run("cp", f"s3://{bucket}/{key}", str(out)),
        "rclone": lambda key, out: clients.rclone(ep).run(
            "copyto", f"{clients.RCLONE_REMOTE}:{bucket}/{key}", str(out)
        ),
        "s5cmd": lambda key, out: clients.s5cmd(ep).run("cp", f"s3://{bucket}/{key}", str(out)),
        "s3fs": lambda key, out: out.write_bytes(
            clients.s3fs_filesystem(ep).cat_file(f"{bucket}/{key}")
        ),
    }
    recorders = []
    try:
        for client, download in downloads.items():
            s = steps(client)
            recorders.append(s)
            out = work / f"{client.split()[0]}.bin"

            @s("tampered object: download fails")
            def _():
                # The same download of an intact copy works, so the failure is the check's.
                download("intact.bin", out)
                assert out.read_bytes() == data
                out.unlink()
                with pytest.raises(Exception):
                    download("k.bin", out)
                # Whatever a client leaves behind must not pass for the object.
                if out.exists():
                    left = out.read_bytes()
                    assert len(left) < len(data), "a complete file from a tampered object"
                    assert left == data[: len(left)], "bytes not from the plaintext"
    finally:
        if tunnel:
            tunnel.close()

    s = steps("boto3 when_supported")
    recorders.append(s)

    @s("tampered object: range over the altered unit fails, others read")
    def _():
        client = target.observer()
        checks.assert_range(client, bucket, "k.bin", data, f"0-{SEGMENT_SIZE - 1}")
        with pytest.raises(Exception):
            client.get_object(Bucket=bucket, Key="k.bin", Range="bytes=200000-200100")[
                "Body"
            ].read()
        assert "k.bin" in target.cloak.log_text()

    for recorder in recorders:
        recorder.finish()


def _flip_stored_byte(target, bucket: str, key: str, offset: int) -> None:
    raw = target.raw()
    got = raw.get_object(Bucket=bucket, Key=key)
    stored = bytearray(got["Body"].read())
    stored[offset] ^= 0x01
    metadata = {name.lower(): value for name, value in got["Metadata"].items()}
    raw.put_object(Bucket=bucket, Key=key, Body=bytes(stored), Metadata=metadata)
