"""The AWS CLI (v1) through Cloak: s3 cp up and down (multipart above 8 MiB), s3 sync
twice (the second sync must find nothing to do), s3api calls, ls and rm."""

import json

import pytest

from harness import checks, clients, scratch
from harness.checks import MiB
from harness.targets import target_params

CLIENT = "aws-cli"
# The CLI's default multipart threshold and part size.
PART = 8 * MiB


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_aws_cli(target, steps):
    s = steps(CLIENT)
    aws = clients.aws_cli(target.endpoint)
    bucket = target.new_bucket("aws-cli")
    big = checks.payload(20 * MiB + 777)
    tree = {"a.bin": checks.payload(300_001), "sub/b.bin": checks.payload(70_000), "c.txt": b""}
    work = scratch.new_dir("aws-cli-work")
    (work / "big.bin").write_bytes(big)
    local = work / "tree"
    for name, data in tree.items():
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        (local / name).write_bytes(data)

    @s("s3 cp up (multipart)")
    def _():
        aws.run("s3", "cp", str(work / "big.bin"), f"s3://{bucket}/big.bin")

    @s("s3 cp down", needs=["s3 cp up (multipart)"])
    def _():
        aws.run("s3", "cp", f"s3://{bucket}/big.bin", str(work / "down.bin"))
        assert (work / "down.bin").read_bytes() == big

    @s("s3 cp - (from a pipe) and back to stdout")
    def _():
        aws.run_binary("s3", "cp", "-", f"s3://{bucket}/piped.bin", stdin=big)
        assert aws.run_binary("s3", "cp", f"s3://{bucket}/piped.bin", "-") == big
        head = target.observer().head_object(Bucket=bucket, Key="piped.bin")
        assert (head["ContentLength"], head["ETag"]) == (len(big), checks.multipart_etag(big, PART))

    @s("s3 sync up")
    def _():
        aws.run("s3", "sync", str(local), f"s3://{bucket}/tree")
        for name, data in tree.items():
            got = target.observer().get_object(Bucket=bucket, Key=f"tree/{name}")
            assert got["Body"].read() == data, name

    @s("s3 sync again transfers nothing", needs=["s3 sync up"])
    def _():
        out = aws.run("s3", "sync", str(local), f"s3://{bucket}/tree").stdout
        assert out.strip() == "", f"second sync transferred: {out}"

    @s("s3 sync down", needs=["s3 sync up"])
    def _():
        down = work / "tree-down"
        aws.run("s3", "sync", f"s3://{bucket}/tree", str(down))
        for name, data in tree.items():
            assert (down / name).read_bytes() == data, name

    @s("s3api head-object", needs=["s3 cp up (multipart)"])
    def _():
        head = _json(aws, "s3api", "head-object", "--bucket", bucket, "--key", "big.bin")
        assert head["ContentLength"] == len(big)
        assert head["ETag"] == checks.multipart_etag(big, PART)

    @s("s3api list-objects-v2", needs=["s3 cp up (multipart)", "s3 sync up"])
    def _():
        listed = _json(aws, "s3api", "list-objects-v2", "--bucket", bucket)["Contents"]
        got = {o["Key"]: (o["Size"], o["ETag"]) for o in listed}
        want = {f"tree/{n}": (len(d), checks.md5_etag(d)) for n, d in tree.items()}
        want["big.bin"] = (len(big), checks.multipart_etag(big, PART))
        if s.outcome("s3 cp - (from a pipe) and back to stdout") == "pass":
            want["piped.bin"] = want["big.bin"]
        assert got == want

    @s("s3api get-object --range", needs=["s3 cp up (multipart)"])
    def _():
        for spec in [f"{PART - 100}-{PART + 65_636}", f"-{70_000}", f"{len(big) - 3}-"]:
            out = work / "range.bin"
            meta = _json(
                aws, "s3api", "get-object", "--bucket", bucket, "--key", "big.bin",
                "--range", f"bytes={spec}", str(out),
            )
            first, last = checks.resolve_range(spec, len(big))
            assert meta["ContentRange"] == f"bytes {first}-{last}/{len(big)}"
            assert out.read_bytes() == big[first : last + 1], spec

    @s("HEAD, LIST size and ETag as S3", needs=["s3 cp up (multipart)", "s3 sync up"])
    def _():
        checks.assert_like_direct(target, bucket, "big.bin", big, PART)
        checks.assert_like_direct(target, bucket, "tree/a.bin", tree["a.bin"], None)

    @s("stored as ciphertext", needs=["s3 cp up (multipart)", "s3 sync up"])
    def _():
        checks.assert_ciphertext(target, bucket, "big.bin", big)
        for name, data in tree.items():
            checks.assert_ciphertext(target, bucket, f"tree/{name}", data)

    @s("s3 ls --recursive sizes", needs=["s3 cp up (multipart)", "s3 sync up"])
    def _():
        out = aws.run("s3", "ls", "--recursive", f"s3://{bucket}/").stdout
        # Each line: date, time, size, key.
        sizes = {line.split(None, 3)[3]: int(line.split(None, 3)[2]) for line in out.splitlines()}
        want = {f"tree/{n}": len(d) for n, d in tree.items()}
        want["big.bin"] = len(big)
        if s.outcome("s3 cp - (from a pipe) and back to stdout") == "pass":
            want["piped.bin"] = len(big)
        assert sizes == want, out

    @s("s3 rm --recursive", needs=["s3 sync up"])
    def _():
        aws.run("s3", "rm", "--recursive", f"s3://{bucket}/tree")
        left = target.raw().list_objects_v2(Bucket=bucket, Prefix="tree/").get("Contents", [])
        assert left == [], [o["Key"] for o in left]

    s.finish()


def _json(tool, *args: str) -> dict:
    return json.loads(tool.run(*args, "--output", "json").stdout)
