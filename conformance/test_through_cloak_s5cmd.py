"""s5cmd (aws-sdk-go v1) through Cloak: parallel multipart upload, parallel ranged
download, many files at once, ls and cat.

aws-sdk-go v1 uploads plain bodies with Content-MD5 and a hex payload hash, over HTTP
and HTTPS alike, and sizes its download parts from the Content-Range total.
"""

import json

import pytest

from harness import checks, clients, scratch
from harness.checks import MiB
from harness.targets import target_params

CLIENT = "s5cmd"
PART = 5 * MiB
PARALLEL = ("--concurrency", "4", "--part-size", "5")


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_s5cmd(target, steps):
    s = steps(CLIENT)
    s5cmd = clients.s5cmd(target.endpoint)
    bucket = target.new_bucket("s5cmd")
    big = checks.payload(22 * MiB + 5)
    many = {f"many/f{i:02}.bin": checks.payload(10_000 * i + 1) for i in range(1, 9)}
    work = scratch.new_dir("s5cmd-work")
    (work / "big.bin").write_bytes(big)
    for name, data in many.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(data)

    @s("cp up parallel multipart (5 MiB parts)")
    def _():
        s5cmd.run("cp", *PARALLEL, str(work / "big.bin"), f"s3://{bucket}/big.bin")

    @s("cp down parallel ranged", needs=["cp up parallel multipart (5 MiB parts)"])
    def _():
        s5cmd.run("cp", *PARALLEL, f"s3://{bucket}/big.bin", str(work / "down.bin"))
        assert (work / "down.bin").read_bytes() == big

    @s("cp many files at once")
    def _():
        s5cmd.run("--numworkers", "8", "cp", f"{work / 'many'}/*", f"s3://{bucket}/many/")
        down = work / "many-down"
        s5cmd.run("--numworkers", "8", "cp", f"s3://{bucket}/many/*", f"{down}/")
        for name, data in many.items():
            assert (down / name.split("/")[-1]).read_bytes() == data, name

    @s("ls sizes and ETags", needs=["cp up parallel multipart (5 MiB parts)"])
    def _():
        out = s5cmd.run("--json", "ls", "--etag", f"s3://{bucket}/big.bin").stdout
        entry = json.loads(out.splitlines()[0])
        assert entry["size"] == len(big), entry
        assert entry["etag"].strip('"') == checks.multipart_etag(big, PART).strip('"'), entry

    @s("cat", needs=["cp many files at once"])
    def _():
        got = s5cmd.run_binary("cat", f"s3://{bucket}/many/f03.bin")
        assert got == many["many/f03.bin"]

    @s("HEAD, LIST size and ETag as S3", needs=["cp up parallel multipart (5 MiB parts)"])
    def _():
        checks.assert_like_direct(target, bucket, "big.bin", big, PART)

    @s("stored as ciphertext", needs=["cp up parallel multipart (5 MiB parts)"])
    def _():
        checks.assert_ciphertext(target, bucket, "big.bin", big)
        if s.outcome("cp many files at once") == "pass":
            for name, data in many.items():
                checks.assert_ciphertext(target, bucket, name, data)

    s.finish()
