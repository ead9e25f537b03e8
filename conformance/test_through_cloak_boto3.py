"""boto3 through Cloak: single and multipart transfers, ranges, presigned URLs,
metadata, conditional reads, paged listings and batch deletes.

Run with botocore's default integrity checksums (when_supported: CRC32 on every upload,
aws-chunked with a trailer over HTTPS) and with when_required (plain bodies, a hex
payload hash over HTTP).
"""

import datetime
import ssl
import urllib.request

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from harness import checks, clients, scratch
from harness.checks import MiB
from harness.targets import target_params

CLIENT = "boto3"
PART = 8 * MiB
TRANSFER = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)


@pytest.mark.parametrize("target", target_params(), indirect=True)
@pytest.mark.parametrize("checksum", ["when_supported", "when_required"])
def test_boto3(target, steps, checksum):
    s = steps(f"boto3 {checksum}")
    client = clients.boto3_client(target.endpoint, checksum=checksum)
    bucket = target.new_bucket(f"boto3-{checksum.replace('_', '-')}")
    small = checks.payload(300_001)
    big = checks.payload(20 * MiB + 4321)
    work = scratch.new_dir("boto3")
    (work / "big.bin").write_bytes(big)

    @s("put_object, get_object")
    def _():
        put = client.put_object(Bucket=bucket, Key="small.bin", Body=small)
        assert put["ETag"] == checks.md5_etag(small)
        assert client.get_object(Bucket=bucket, Key="small.bin")["Body"].read() == small

    @s("upload_file multipart (8 MiB parts)")
    def _():
        client.upload_file(str(work / "big.bin"), bucket, "big.bin", Config=TRANSFER)

    @s("download_file (ranged parts)", needs=["upload_file multipart (8 MiB parts)"])
    def _():
        client.download_file(bucket, "big.bin", str(work / "down.bin"), Config=TRANSFER)
        assert (work / "down.bin").read_bytes() == big

    @s("get_object Range a-b, a-, -n", needs=["upload_file multipart (8 MiB parts)"])
    def _():
        part_edges = [f"{PART - 5}-{PART + 4}", f"{2 * PART - 65_536}-{2 * PART + 65_536}"]
        for spec in checks.boundary_ranges(len(big)) + part_edges:
            checks.assert_range(client, bucket, "big.bin", big, spec)
        for spec in checks.boundary_ranges(len(small)) + ["0-0", "0-", f"-{len(small) + 5}"]:
            checks.assert_range(client, bucket, "small.bin", small, spec)

    @s("HEAD, LIST size and ETag as S3", needs=["put_object, get_object"])
    def _():
        checks.assert_like_direct(target, bucket, "small.bin", small, None)
        if s.outcome("upload_file multipart (8 MiB parts)") == "pass":
            checks.assert_like_direct(target, bucket, "big.bin", big, PART)

    @s("stored as ciphertext", needs=["put_object, get_object"])
    def _():
        checks.assert_ciphertext(target, bucket, "small.bin", small)
        if s.outcome("upload_file multipart (8 MiB parts)") == "pass":
            checks.assert_ciphertext(target, bucket, "big.bin", big)

    @s("presigned GET (SigV4)", needs=["put_object, get_object"])
    def _():
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "small.bin"}, ExpiresIn=300
        )
        assert "X-Amz-Signature=" in url
        assert _fetch(target, url) == small

    @s("presigned PUT (SigV4)")
    def _():
        url = client.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": "presigned.bin"}, ExpiresIn=300
        )
        # With urllib's default Content-Type (form-urlencoded) moto would store an empty
        # body, whoever sends it; real clients send a binary type.
        headers = {"Content-Type": "application/octet-stream"}
        etag = _fetch(target, url, method="PUT", data=small, headers=headers, want="etag")
        assert etag == checks.md5_etag(small)
        assert client.get_object(Bucket=bucket, Key="presigned.bin")["Body"].read() == small

    @s("presigned GET (SigV2, boto3's default)", needs=["put_object, get_object"])
    def _():
        # Without signature_version, botocore presigns with SigV2 for custom endpoints.
        default = clients.boto3_client(target.endpoint, checksum=checksum, signature_version=None)
        url = default.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "small.bin"}, ExpiresIn=300
        )
        assert "AWSAccessKeyId=" in url and "Signature=" in url
        assert _fetch(target, url) == small

    @s("parts not whole 64 KiB segments: refused with InvalidPart")
    def _():
        # Cloak's one limit on part sizes (docs/FORMAT.md); every client's default fits.
        # (s3transfer raises a part size below 5 MiB to 5 MiB, which is whole segments.)
        odd = TransferConfig(multipart_threshold=6_000_000, multipart_chunksize=6_000_000)
        with pytest.raises(Exception, match="InvalidPart.*multiple of 65536"):
            client.upload_file(str(work / "big.bin"), bucket, "odd-parts.bin", Config=odd)
        with pytest.raises(ClientError):
            client.head_object(Bucket=bucket, Key="odd-parts.bin")
        # s3transfer aborts the upload; nothing of it may stay in the store.
        raw = target.raw()
        assert raw.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        left = raw.list_objects_v2(Bucket=bucket, Prefix=".cloak/").get("Contents", [])
        assert left == [], [o["Key"] for o in left]

    @s("metadata and content headers kept")
    def _():
        client.put_object(
            Bucket=bucket, Key="meta.txt", Body=b"with metadata\n", ContentType="text/plain",
            CacheControl="max-age=60", ContentDisposition='attachment; filename="m.txt"',
            Metadata={"owner": "conformance", "run": "1"},
        )
        head = client.head_object(Bucket=bucket, Key="meta.txt")
        assert head["Metadata"] == {"owner": "conformance", "run": "1"}
        assert (head["ContentType"], head["CacheControl"]) == ("text/plain", "max-age=60")
        assert head["ContentDisposition"] == 'attachment; filename="m.txt"'
        assert head["ContentLength"] == len(b"with metadata\n")

    @s("conditional GET: If-None-Match 304, If-Match 412", needs=["put_object, get_object"])
    def _():
        etag = checks.md5_etag(small)
        with pytest.raises(ClientError) as not_modified:
            client.get_object(Bucket=bucket, Key="small.bin", IfNoneMatch=etag)
        assert not_modified.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
        with pytest.raises(ClientError) as failed:
            client.get_object(Bucket=bucket, Key="small.bin", IfMatch='"' + '0' * 32 + '"')
        assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
        got = client.get_object(Bucket=bucket, Key="small.bin", IfMatch=etag, Range="bytes=0-9")
        assert got["Body"].read() == small[:10]

    @s("Range edge cases, overrides, If-(Un)Modified-Since", needs=["put_object, get_object"])
    def _():
        def get(**kw):
            return client.get_object(Bucket=bucket, Key="small.bin", **kw)

        # Beyond the end: 416. Multiple or backwards ranges: ignored, the whole object.
        with pytest.raises(ClientError, match="InvalidRange"):
            get(Range=f"bytes={len(small)}-")
        for spec in ("bytes=0-1,5-6", "bytes=10-5"):
            got = get(Range=spec)
            status = got["ResponseMetadata"]["HTTPStatusCode"]
            assert (status, got.get("ContentRange")) == (200, None), spec
            assert got["Body"].read() == small, spec
        head = client.head_object(Bucket=bucket, Key="small.bin", Range="bytes=0-9")
        assert (head["ContentRange"], head["ContentLength"]) == (f"bytes 0-9/{len(small)}", 10)
        over = get(ResponseContentType="text/x-over", ResponseContentDisposition="inline")
        assert (over["ContentType"], over["ContentDisposition"]) == ("text/x-over", "inline")
        for condition, status in [
            ({"IfModifiedSince": datetime.datetime(2100, 1, 1)}, 304),
            ({"IfUnmodifiedSince": datetime.datetime(2000, 1, 1)}, 412),
        ]:
            with pytest.raises(ClientError) as refused:
                get(**condition)
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == status

    @s("list_objects_v2 pages of 7, then delete_objects")
    def _():
        keys = [f"many/{i:03}" for i in range(30)]
        for key in keys:
            client.put_object(Bucket=bucket, Key=key, Body=key.encode())
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix="many/", PaginationConfig={"PageSize": 7}
        )
        listed = [(o["Key"], o["Size"], o["ETag"]) for p in pages for o in p["Contents"]]
        assert listed == [(k, len(k), checks.md5_etag(k.encode())) for k in keys]
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
        # Not KeyCount: rclone's server leaves it out of an empty listing.
        assert client.list_objects_v2(Bucket=bucket, Prefix="many/").get("Contents", []) == []

    s.finish()


def _fetch(target, url: str, *, method="GET", data=None, headers=None, want="body"):
    """A presigned request with urllib, trusting the test CA over TLS."""
    ca = target.endpoint.ca_bundle
    context = ssl.create_default_context(cafile=ca) if ca else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(request, context=context, timeout=60) as response:
        body = response.read()
        return response.headers["ETag"] if want == "etag" else body


@pytest.mark.parametrize(
    "target", [p for p in target_params() if p.id.startswith("moto")], indirect=True
)
def test_boto3_versions(target, steps):
    """Versioned buckets (moto only: rclone's server has no versioning): every version
    reads back, and ListObjectVersions gives plaintext sizes and ETags."""
    s = steps("boto3 versions")
    client = target.observer()
    bucket = target.new_bucket("versions")
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old, new = checks.payload(100_000), checks.payload(70_000)
    ids = [client.put_object(Bucket=bucket, Key="k", Body=b)["VersionId"] for b in (old, new)]

    @s("get, head, range of an older version")
    def _():
        got = client.get_object(Bucket=bucket, Key="k", VersionId=ids[0])
        assert got["Body"].read() == old
        head = client.head_object(Bucket=bucket, Key="k", VersionId=ids[0])
        assert (head["ContentLength"], head["ETag"]) == (len(old), checks.md5_etag(old))
        ranged = client.get_object(Bucket=bucket, Key="k", VersionId=ids[0], Range="bytes=-10")
        assert ranged["Body"].read() == old[-10:]

    @s("list_object_versions sizes and ETags")
    def _():
        listed = client.list_object_versions(Bucket=bucket)["Versions"]
        got = {v["VersionId"]: (v["Size"], v["ETag"]) for v in listed}
        assert got == {
            ids[0]: (len(old), checks.md5_etag(old)),
            ids[1]: (len(new), checks.md5_etag(new)),
        }

    @s("delete marker hides the key, versions stay")
    def _():
        assert client.delete_object(Bucket=bucket, Key="k")["DeleteMarker"]
        with pytest.raises(ClientError):
            client.get_object(Bucket=bucket, Key="k")
        assert client.get_object(Bucket=bucket, Key="k", VersionId=ids[1])["Body"].read() == new

    s.finish()
