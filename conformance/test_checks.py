"""The through-Cloak checks can fail: each is shown a case it must reject."""

import pytest

from harness import checks
from harness.checks import MiB


@pytest.fixture
def moto_target(cloaks):
    return cloaks(("moto", "http"))


def test_ciphertext_check_rejects_plaintext_in_the_store(moto_target):
    bucket = moto_target.new_bucket("check-plain")
    data = checks.payload(300_001)
    moto_target.raw().put_object(Bucket=bucket, Key="k", Body=data, Metadata={"cloak": "x"})

    with pytest.raises(AssertionError, match="stored 300001 bytes"):
        checks.assert_ciphertext(moto_target, bucket, "k", data)


def test_ciphertext_check_rejects_a_leaked_window(moto_target):
    bucket = moto_target.new_bucket("check-window")
    data = checks.payload(1000)
    leaky = data[:64] + checks.payload(checks.stored_size(1000) - 64)
    moto_target.raw().put_object(Bucket=bucket, Key="k", Body=leaky, Metadata={"cloak": "x"})

    with pytest.raises(AssertionError, match="found in the store"):
        checks.assert_ciphertext(moto_target, bucket, "k", data)


def test_like_direct_check_rejects_another_etag(moto_target):
    bucket = moto_target.new_bucket("check-etag")
    data = checks.payload(9 * MiB)
    moto_target.observer().put_object(Bucket=bucket, Key="k", Body=data)

    # Put whole, checked as if uploaded in 8 MiB parts: the ETags must disagree.
    with pytest.raises(AssertionError):
        checks.assert_like_direct(moto_target, bucket, "k", data, 8 * MiB)


def test_range_check_rejects_other_bytes(moto_target):
    bucket = moto_target.new_bucket("check-range")
    data = checks.payload(300_000)
    moto_target.observer().put_object(Bucket=bucket, Key="k", Body=data)
    other = bytearray(data)
    other[70_000] ^= 1

    checks.assert_range(moto_target.observer(), bucket, "k", data, "65536-131071")
    with pytest.raises(AssertionError, match="wrong bytes"):
        checks.assert_range(moto_target.observer(), bucket, "k", bytes(other), "65536-131071")
