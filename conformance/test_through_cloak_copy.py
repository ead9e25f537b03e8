"""Copies and part reads through Cloak, kept apart from the per-client tests because
they need the newest operations: CopyObject (re-binds the data key, copies ciphertext),
UploadPartCopy (re-encrypts a plaintext range), GetObjectAttributes and partNumber
reads, driven by boto3, the AWS CLI, rclone (server-side copy) and s5cmd.

One deliberate difference from S3 (docs/FORMAT.md, "Copy without re-encryption"): the
CopyObject copy of a multipart object keeps the source's `"<hex>-N"` ETag, where S3
gives the MD5 of the whole object, since Cloak reads no byte to compute another.
"""

import pytest
from boto3.s3.transfer import TransferConfig

from harness import checks, clients, scratch
from harness.checks import MiB
from harness.targets import target_params

CLIENT = "copies"
PART = 8 * MiB
TRANSFER = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_copies(target, steps):
    s = steps("boto3 copies")
    client = clients.boto3_client(target.endpoint, checksum="when_required")
    src, dst = target.new_bucket("copy-src"), target.new_bucket("copy-dst")
    small = checks.payload(300_001)
    big = checks.payload(20 * MiB + 17)
    big_etag = checks.multipart_etag(big, PART)
    client.put_object(Bucket=src, Key="small.bin", Body=small)
    work = scratch.new_dir("copies")
    (work / "big.bin").write_bytes(big)
    client.upload_file(str(work / "big.bin"), src, "big.bin", Config=TRANSFER)

    @s("copy_object to another bucket")
    def _():
        done = client.copy_object(
            Bucket=dst, Key="small.bin", CopySource={"Bucket": src, "Key": "small.bin"}
        )
        assert done["CopyObjectResult"]["ETag"] == checks.md5_etag(small)
        assert client.get_object(Bucket=dst, Key="small.bin")["Body"].read() == small
        checks.assert_ciphertext(target, dst, "small.bin", small)
        checks.assert_like_direct(target, dst, "small.bin", small, None)

    @s("copy_object of a multipart object keeps its ETag")
    def _():
        client.copy_object(Bucket=dst, Key="big.bin", CopySource={"Bucket": src, "Key": "big.bin"})
        head = client.head_object(Bucket=dst, Key="big.bin")
        assert (head["ContentLength"], head["ETag"]) == (len(big), big_etag)
        checks.assert_range(client, dst, "big.bin", big, f"{PART - 3}-{PART + 70_000}")

    @s("managed copy (UploadPartCopy, 8 MiB parts)")
    def _():
        client.copy({"Bucket": src, "Key": "big.bin"}, dst, "parts.bin", Config=TRANSFER)
        assert client.get_object(Bucket=dst, Key="parts.bin")["Body"].read() == big
        checks.assert_ciphertext(target, dst, "parts.bin", big)
        checks.assert_like_direct(target, dst, "parts.bin", big, PART)

    @s("upload_part_copy with ranges across segments")
    def _():
        upload = client.create_multipart_upload(Bucket=dst, Key="ranged.bin")["UploadId"]
        spans = [(65_531, 65_531 + 5 * MiB - 1), (3 * MiB + 7, 3 * MiB + 7 + 999)]
        parts = []
        for number, (first, last) in enumerate(spans, start=1):
            done = client.upload_part_copy(
                Bucket=dst, Key="ranged.bin", UploadId=upload, PartNumber=number,
                CopySource={"Bucket": src, "Key": "big.bin"},
                CopySourceRange=f"bytes={first}-{last}",
            )
            parts.append({"PartNumber": number, "ETag": done["CopyPartResult"]["ETag"]})
        client.complete_multipart_upload(
            Bucket=dst, Key="ranged.bin", UploadId=upload, MultipartUpload={"Parts": parts}
        )
        want = b"".join(big[first : last + 1] for first, last in spans)
        assert client.get_object(Bucket=dst, Key="ranged.bin")["Body"].read() == want
        assert client.head_object(Bucket=dst, Key="ranged.bin")["ETag"] == (
            checks.multipart_etag(want, 5 * MiB)
        )

    @s("get_object_attributes")
    def _():
        got = client.get_object_attributes(
            Bucket=src, Key="big.bin", ObjectAttributes=["ETag", "ObjectSize", "ObjectParts"]
        )
        assert got["ObjectSize"] == len(big)
        assert got["ETag"] == big_etag.strip('"')
        sizes = [p["Size"] for p in got["ObjectParts"]["Parts"]]
        assert got["ObjectParts"]["TotalPartsCount"] == 3
        assert sizes == [PART, PART, len(big) - 2 * PART]

    @s("partNumber GET and HEAD")
    def _():
        got = client.get_object(Bucket=src, Key="big.bin", PartNumber=2)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == f"bytes {PART}-{2 * PART - 1}/{len(big)}"
        assert (got["PartsCount"], got["ETag"]) == (3, big_etag)
        assert got["Body"].read() == big[PART : 2 * PART]
        head = client.head_object(Bucket=src, Key="small.bin", PartNumber=1)
        assert head["ContentLength"] == len(small)

    others = _other_clients(target, steps, src, dst, small, big)
    for recorder in [s, *others]:
        recorder.finish()


def _other_clients(target, steps, src, dst, small, big) -> list:
    aws = clients.aws_cli(target.endpoint)
    a = steps("aws-cli copies")

    @a("s3 cp s3:// s3:// (20 MiB, multipart source)")
    def _():
        aws.run("s3", "cp", f"s3://{src}/big.bin", f"s3://{dst}/aws-big.bin")
        observer = target.observer()
        assert observer.get_object(Bucket=dst, Key="aws-big.bin")["Body"].read() == big
        checks.assert_like_direct(target, dst, "aws-big.bin", big, PART)

    @a("s3 cp s3:// s3:// (CopyObject)")
    def _():
        aws.run("s3", "cp", f"s3://{src}/small.bin", f"s3://{dst}/aws-small.bin")
        checks.assert_like_direct(target, dst, "aws-small.bin", small, None)


    rclone = clients.rclone(target.endpoint)
    r = steps("rclone copies")

    @r("server-side copyto, then check")
    def _():
        remote = clients.RCLONE_REMOTE
        rclone.run("copyto", f"{remote}:{src}/small.bin", f"{remote}:{dst}/rclone-small.bin")
        local = scratch.new_dir("rclone-copy") / "rclone-small.bin"
        local.write_bytes(small)
        rclone.run("check", str(local.parent), f"{remote}:{dst}", "--include", "rclone-small.bin")
        checks.assert_ciphertext(target, dst, "rclone-small.bin", small)


    s5cmd = clients.s5cmd(target.endpoint)
    f = steps("s5cmd copies")

    @f("cp s3:// s3://")
    def _():
        s5cmd.run("cp", f"s3://{src}/small.bin", f"s3://{dst}/s5-small.bin")
        assert s5cmd.run_binary("cat", f"s3://{dst}/s5-small.bin") == small
        checks.assert_like_direct(target, dst, "s5-small.bin", small, None)

    return [a, r, f]
