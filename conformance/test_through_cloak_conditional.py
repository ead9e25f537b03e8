"""Conditional writes through Cloak (S3 since 2024): PutObject with If-None-Match: *
or If-Match, CompleteMultipartUpload with If-None-Match: *. moto enforces all three;
rclone's server enforces none, so these run against moto only."""

import pytest
from botocore.exceptions import ClientError

from harness import checks
from harness.targets import target_params

STALE = '"' + "0" * 32 + '"'


def _moto() -> list:
    return [p for p in target_params() if p.id.startswith("moto")]


@pytest.mark.parametrize("target", _moto(), indirect=True)
def test_put_if_none_match(target, steps):
    s = steps("boto3 conditional writes")
    client, bucket = target.observer(), target.new_bucket("cond-put")

    @s("PutObject If-None-Match: * on an existing key: 412, object kept")
    def _():
        client.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")
        _expect_412(lambda: client.put_object(Bucket=bucket, Key="k", Body=b"2", IfNoneMatch="*"))
        assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"first"

    s.finish()


@pytest.mark.parametrize("target", _moto(), indirect=True)
def test_put_if_match(target, steps):
    s = steps("boto3 conditional writes")
    client, bucket = target.observer(), target.new_bucket("cond-put")
    client.put_object(Bucket=bucket, Key="k", Body=b"first")

    @s("PutObject If-Match with a stale ETag: 412, object kept")
    def _():
        _expect_412(lambda: client.put_object(Bucket=bucket, Key="k", Body=b"2", IfMatch=STALE))
        assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"first"

    @s("PutObject If-Match with the current ETag: written")
    def _():
        client.put_object(Bucket=bucket, Key="k", Body=b"third", IfMatch=checks.md5_etag(b"first"))
        assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"third"

    s.finish()


@pytest.mark.parametrize("target", _moto(), indirect=True)
def test_complete_if_none_match(target, steps):
    s = steps("boto3 conditional writes")
    client, bucket = target.observer(), target.new_bucket("cond-complete")
    client.put_object(Bucket=bucket, Key="k", Body=b"exists")

    @s("CompleteMultipartUpload If-None-Match: * on an existing key: 412, object kept")
    def _():
        upload = client.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
        etag = client.upload_part(
            Bucket=bucket, Key="k", UploadId=upload, PartNumber=1, Body=b"new"
        )["ETag"]
        parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
        _expect_412(
            lambda: client.complete_multipart_upload(
                Bucket=bucket, Key="k", UploadId=upload, MultipartUpload=parts, IfNoneMatch="*"
            )
        )
        assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"exists"

    s.finish()


def _expect_412(call) -> None:
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
