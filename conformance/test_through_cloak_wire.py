"""Wire-level checks through Cloak that no single client covers: refused credentials, a
client that does not trust Cloak's certificate, the reserved prefix; and the rclone
server behaviours that Cloak once tripped over, each shown directly and then through Cloak.
"""

import dataclasses

import botocore.exceptions
import pytest

from harness import checks, clients, tls
from harness.report import skip_step
from harness.targets import target_params

CLIENT = "boto3 refusals"


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_refusals(target, steps):
    s = steps(CLIENT)
    bucket = target.new_bucket("refusals")

    @s("wrong secret: 403 SignatureDoesNotMatch")
    def _():
        wrong = dataclasses.replace(target.endpoint, secret_key="not-the-secret")
        _expect_error(clients.boto3_client(wrong), bucket, 403, "SignatureDoesNotMatch")

    @s("unknown access key: 403 InvalidAccessKeyId")
    def _():
        unknown = dataclasses.replace(target.endpoint, access_key="AKIDNOTCONFIGURED")
        _expect_error(clients.boto3_client(unknown), bucket, 403, "InvalidAccessKeyId")

    @s("upstream credentials are not client credentials")
    def _():
        store = target.store
        as_store = dataclasses.replace(
            target.endpoint, access_key=store.access_key, secret_key=store.secret_key
        )
        _expect_error(clients.boto3_client(as_store), bucket, 403, None)

    @s("reserved prefix .cloak/ refused")
    def _():
        client = target.observer()
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            client.put_object(Bucket=bucket, Key=".cloak/mpu/x", Body=b"x")
        status = refused.value.response["ResponseMetadata"]["HTTPStatusCode"]
        assert 400 <= status < 500, refused.value.response
        listed = target.raw().list_objects_v2(Bucket=bucket).get("Contents", [])
        assert listed == [], "a refused request reached the store"

    @s("TLS: a client with another CA refuses Cloak")
    def _():
        if target.scheme != "https":
            skip_step("plain HTTP")
        other = dataclasses.replace(target.endpoint, ca_bundle=tls.make_server_cert().ca_bundle)
        with pytest.raises(botocore.exceptions.SSLError):
            clients.boto3_client(other, max_attempts=1).list_objects_v2(Bucket=bucket)

    s.finish()


def _expect_error(client, bucket: str, status: int, code: str | None) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        client.put_object(Bucket=bucket, Key="refused.bin", Body=b"never stored")
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status, error
    if code:
        assert error["Error"]["Code"] == code, error


@pytest.fixture
def rclone_target(cloaks):
    return cloaks(("rclone", "http"))


def test_rclone_store_answers_a_range_with_200(rclone_target):
    """rclone's server answers a satisfied Range with 200 and a Content-Range (S3: 206),
    and a suffix longer than the object with 416 (S3: the whole object). Cloak's probe
    reads the tail of every object with a suffix range, so it must take both."""
    raw = rclone_target.raw()
    bucket = rclone_target.new_bucket("range-200")
    raw.put_object(Bucket=bucket, Key="k", Body=b"0123456789")

    got = raw.get_object(Bucket=bucket, Key="k", Range="bytes=-4")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["ContentRange"] == "bytes 6-9/10"
    assert got["Body"].read() == b"6789"

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        raw.get_object(Bucket=bucket, Key="k", Range="bytes=-100")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


@pytest.mark.parametrize("size", [0, 1, 100, 65_536, 200_000])
def test_rclone_head_and_get_through_cloak(rclone_target, size):
    """HEAD, GET and a suffix range through Cloak on rclone, objects smaller and larger
    than Cloak's probe (the two store answers above)."""
    bucket = rclone_target.new_bucket("range-200")
    data = checks.payload(size)
    client = clients.boto3_client(rclone_target.endpoint, checksum="when_required", max_attempts=1)
    client.put_object(Bucket=bucket, Key="k", Body=data)

    head = client.head_object(Bucket=bucket, Key="k")
    got = client.get_object(Bucket=bucket, Key="k")["Body"].read()

    assert (head["ContentLength"], head["ETag"]) == (size, checks.md5_etag(data))
    assert got == data
    if size:
        checks.assert_range(client, bucket, "k", data, f"-{min(size, 70_000)}")


def test_rclone_store_initiate_root(rclone_target):
    """rclone's server names the root of its CreateMultipartUpload answer
    <InitiateMultipartUpload> (S3: <InitiateMultipartUploadResult>); clients ignore the
    name, and so must Cloak."""
    raw = rclone_target.raw()
    bucket = rclone_target.new_bucket("initiate-root")
    bodies = []
    raw.meta.events.register(
        "before-parse.s3.CreateMultipartUpload",
        lambda response_dict, **_: bodies.append(response_dict["body"]),
    )

    raw.create_multipart_upload(Bucket=bucket, Key="k")

    assert b"<InitiateMultipartUpload>" in bodies[0], bodies[0]
    assert b"InitiateMultipartUploadResult" not in bodies[0]

    client = clients.boto3_client(rclone_target.endpoint, checksum="when_required", max_attempts=1)
    assert client.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"].startswith("c1.")

