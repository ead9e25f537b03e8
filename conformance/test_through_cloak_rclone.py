"""rclone (its S3 backend) through Cloak: copy a tree (one file multipart), check it,
list it, read ranges with cat, copy it back, and copy again with nothing to do."""

import json

import pytest

from harness import checks, clients, scratch
from harness.checks import MiB
from harness.targets import target_params

CLIENT = "rclone"
CHUNK = 8 * MiB
# Multipart above 8 MiB (rclone's default cutoff is 200 MiB), 8 MiB parts.
MULTIPART = ("--s3-upload-cutoff", "8M", "--s3-chunk-size", "8M")


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_rclone(target, steps):
    s = steps(CLIENT)
    rclone = clients.rclone(target.endpoint)
    bucket = target.new_bucket("rclone")
    remote = f"{clients.RCLONE_REMOTE}:{bucket}/tree"
    tree = {
        "big.bin": checks.payload(20 * MiB + 31),
        "a.bin": checks.payload(300_001),
        "dir/b.txt": b"second file\n",
    }
    work = scratch.new_dir("rclone-work")
    local = work / "tree"
    for name, data in tree.items():
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        (local / name).write_bytes(data)

    @s("copy up (big file multipart)")
    def _():
        rclone.run("copy", *MULTIPART, str(local), remote)

    @s("check", needs=["copy up (big file multipart)"])
    def _():
        rclone.run("check", str(local), remote)

    @s("check --download", needs=["copy up (big file multipart)"])
    def _():
        rclone.run("check", "--download", str(local), remote)

    @s("lsjson sizes", needs=["copy up (big file multipart)"])
    def _():
        listed = json.loads(rclone.run("lsjson", "-R", "--files-only", remote).stdout)
        assert {o["Path"]: o["Size"] for o in listed} == {n: len(d) for n, d in tree.items()}

    @s("cat --offset --count (ranges)", needs=["copy up (big file multipart)"])
    def _():
        big = tree["big.bin"]
        for offset, count in [(0, 10), (CHUNK - 65_536 - 5, 200_000), (len(big) - 1000, 5000)]:
            args = ("cat", "--offset", str(offset), "--count", str(count), f"{remote}/big.bin")
            assert rclone.run_binary(*args) == big[offset : offset + count], offset

    @s("copy again transfers nothing", needs=["copy up (big file multipart)"])
    def _():
        out = rclone.run("copy", "-v", *MULTIPART, str(local), remote)
        assert "Copied" not in out.stderr, out.stderr

    @s("copy down", needs=["copy up (big file multipart)"])
    def _():
        down = work / "down"
        rclone.run("copy", remote, str(down))
        for name, data in tree.items():
            assert (down / name).read_bytes() == data, name

    @s("HEAD, LIST size and ETag as S3", needs=["copy up (big file multipart)"])
    def _():
        checks.assert_like_direct(target, bucket, "tree/big.bin", tree["big.bin"], CHUNK)
        checks.assert_like_direct(target, bucket, "tree/a.bin", tree["a.bin"], None)

    @s("stored as ciphertext", needs=["copy up (big file multipart)"])
    def _():
        for name, data in tree.items():
            checks.assert_ciphertext(target, bucket, f"tree/{name}", data)

    s.finish()
