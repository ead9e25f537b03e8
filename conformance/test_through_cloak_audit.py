"""Cloak's audit records (target `cloak::audit` in its log) for requests a real client
made: one per request, found by the request id the client got, with the status, the
error and the bytes that really went each way."""

import re
import time

import pytest

from harness import checks
from harness.targets import target_params


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_audit_one_record_per_request(target, steps):
    s = steps("boto3 audit")
    client, bucket, data = _setup(target)
    responses = [
        client.put_object(Bucket=bucket, Key="k", Body=data),
        client.head_object(Bucket=bucket, Key="k"),
        client.list_objects_v2(Bucket=bucket),
    ]

    @s("one record per request, found by its request id")
    def _():
        for response in responses:
            assert len(_records(target, _request_id(response))) == 1, _request_id(response)

    @s("HEAD and LIST recorded with op, 200, no error")
    def _():
        for response, op in zip(responses[1:], ["HeadObject", "ListObjectsV2"]):
            (record,) = _records(target, _request_id(response))
            assert (record["op"], record["status"], record["error"]) == (op, "200", '"-"')

    s.finish()


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_audit_complete_get(target, steps):
    s = steps("boto3 audit")
    client, bucket, data = _setup(target)
    client.put_object(Bucket=bucket, Key="k", Body=data)
    got = client.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == data

    @s("complete GET: no error, bytes_out = length")
    def _():
        (record,) = _records(target, _request_id(got))
        assert record["status"] == "200"
        assert (record["error"], int(record["bytes_out"])) == ('"-"', len(data)), record

    s.finish()


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_audit_put_bytes_in(target, steps):
    s = steps("boto3 audit")
    client, bucket, data = _setup(target)
    put = client.put_object(Bucket=bucket, Key="k", Body=data)

    @s("PUT: bytes_in = body length")
    def _():
        (record,) = _records(target, _request_id(put))
        assert int(record["bytes_in"]) == len(data), record

    s.finish()


def _setup(target):
    return target.observer(), target.new_bucket("audit"), checks.payload(300_001)


def _request_id(response) -> str:
    # Cloak's own header. Not botocore's RequestId: botocore prefers x-amzn-requestid,
    # which moto sends and Cloak passes through.
    return response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]


_FIELD = re.compile(r'(\w+)=("[^"]*"|\S+)')


def _records(target, request_id: str, wait: float = 3.0) -> list[dict]:
    """The audit records with this request id; a record is written when the response
    body ends, which can be a moment after the client has read it."""
    deadline = time.monotonic() + wait
    while True:
        found = [
            dict(_FIELD.findall(line))
            for line in target.cloak.log_text().splitlines()
            if "cloak::audit" in line and f"request_id={request_id}" in line
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
