"""Awkward objects through Cloak with every client: a key with spaces, non-ASCII, and
the characters SigV4 and URL encoders treat differently (+ % ~ = & ; , $ @ ! ( ) '),
and an empty object.

Each client writes and reads back its own object; the store must hold it under exactly
that key (Cloak forwards the key as the client encoded it), as ciphertext.
"""

import pytest

from harness import checks, clients, scratch
from harness.ports import LOOPBACK
from harness.targets import target_params
from harness.tunnel import Tunnel

KEY = "odd keys/with space/ünï+plus%25pct~t=e&a;b,c$d@e!(f)'g.bin"
CASES = {
    "odd key name: round trip, stored under that key": (KEY, 70_001),
    "empty object: round trip": ("empty/zero.bin", 0),
}


@pytest.mark.parametrize("target", target_params(), indirect=True)
@pytest.mark.parametrize("case", list(CASES), ids=["odd-key", "empty"])
def test_awkward_objects(target, steps, case):
    name, size = CASES[case]
    bucket = target.new_bucket("awkward")
    data = checks.payload(size)
    work = scratch.new_dir("odd-keys")
    up, down = work / "up.bin", work / "down.bin"
    up.write_bytes(data)
    ep = target.endpoint
    tunnel = Tunnel((LOOPBACK, ep.port)) if ep.is_tls else None
    aws, s5cmd, rclone = clients.aws_cli(ep), clients.s5cmd(ep), clients.rclone(ep)
    gsutil = clients.gsutil(ep, proxy=tunnel.address if tunnel else None)
    boto3 = clients.boto3_client(ep)
    fs = clients.s3fs_filesystem(ep)
    remote = f"{clients.RCLONE_REMOTE}:{bucket}"

    # client -> (upload up.bin to key, download key to down.bin)
    transfers = {
        "boto3 when_supported": (
            lambda key: boto3.upload_file(str(up), bucket, key),
            lambda key: boto3.download_file(bucket, key, str(down)),
        ),
        "aws-cli": (
            lambda key: aws.run("s3", "cp", str(up), f"s3://{bucket}/{key}"),
            lambda key: aws.run("s3", "cp", f"s3://{bucket}/{key}", str(down)),
        ),
        "gsutil SigV4": (
            lambda key: gsutil.run("cp", str(up), f"s3://{bucket}/{key}"),
            lambda key: gsutil.run("cp", f"s3://{bucket}/{key}", str(down)),
        ),
        "rclone": (
            lambda key: rclone.run("copyto", str(up), f"{remote}/{key}"),
            lambda key: rclone.run("copyto", f"{remote}/{key}", str(down)),
        ),
        "s5cmd": (
            lambda key: s5cmd.run("cp", str(up), f"s3://{bucket}/{key}"),
            lambda key: s5cmd.run("cp", f"s3://{bucket}/{key}", str(down)),
        ),
        "s3fs": (
            lambda key: fs.put_file(str(up), f"{bucket}/{key}"),
            lambda key: fs.get_file(f"{bucket}/{key}", str(down)),
        ),
    }
    recorders = []
    try:
        for client, (put, get) in transfers.items():
            s = steps(client)
            recorders.append(s)
            key = f"{client.split()[0]}/{name}"

            @s(case)
            def _():
                down.unlink(missing_ok=True)
                put(key)
                get(key)
                assert down.read_bytes() == data
                listed = target.observer().list_objects_v2(Bucket=bucket, Prefix=key)
                assert [o["Key"] for o in listed.get("Contents", [])] == [key]
                checks.assert_ciphertext(target, bucket, key, data)
    finally:
        if tunnel:
            tunnel.close()
    for recorder in recorders:
        recorder.finish()
