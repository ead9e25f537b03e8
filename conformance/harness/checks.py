"""What every client x store pair must show, whichever client wrote the object.

- The store holds ciphertext: not the plaintext, not containing any sampled window of
  it, exactly as long as docs/FORMAT.md says, with Cloak's envelope header.
- Through Cloak, HEAD and LIST give what S3 gives for the plaintext: the same Size and
  ETag as the same plaintext put directly into the store (single PUT: the MD5; multipart:
  the MD5 of the part MD5s and the part count, with the same part sizes).
- Ranges read through Cloak are the plaintext's bytes, with S3's Content-Range.
"""

import hashlib
import os
import random

from .cloak import stored_size
from .targets import Target

MiB = 1024 * 1024

# Windows of plaintext looked for in the stored bytes; any hit means plaintext leaked.
_WINDOWS = 16
_WINDOW = 64


def payload(size: int) -> bytes:
    """Random bytes: incompressible, and no window of them is found by chance."""
    return os.urandom(size)


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def multipart_etag(data: bytes, part_size: int) -> str:
    parts = [data[i : i + part_size] for i in range(0, len(data), part_size)] or [b""]
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def expected_etag(data: bytes, part_size: int | None) -> str:
    """S3's ETag for `data` put whole (`part_size` None) or in parts of `part_size`."""
    return md5_etag(data) if part_size is None else multipart_etag(data, part_size)


def assert_ciphertext(target: Target, bucket: str, key: str, plaintext: bytes) -> None:
    """The store's copy of the object, read bypassing Cloak, is Cloak's ciphertext."""
    got = target.raw().get_object(Bucket=bucket, Key=key)
    stored = got["Body"].read()

    # rclone's server capitalises metadata names (Cloak); S3 lowercases them.
    names = {name.lower() for name in got["Metadata"]}
    assert "cloak" in names, f"no envelope header in {sorted(names)}"
    assert len(stored) == stored_size(len(plaintext)), (
        f"stored {len(stored)} bytes for {len(plaintext)} plaintext bytes, "
        f"expected {stored_size(len(plaintext))}"
    )
    assert stored != plaintext
    for offset in _sample_offsets(len(plaintext)):
        window = plaintext[offset : offset + _WINDOW]
        assert window not in stored, f"plaintext bytes {offset}+{_WINDOW} found in the store"


def put_reference(target: Target, key: str, plaintext: bytes, part_size: int | None) -> str:
    """Put `plaintext` directly into the store's reference bucket, whole or in parts of
    `part_size`; returns the ETag the store's PUT or Complete answered."""
    raw = target.raw()
    bucket = target.ref_bucket
    if part_size is None:
        return raw.put_object(Bucket=bucket, Key=key, Body=plaintext)["ETag"]
    upload = raw.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(plaintext), part_size), start=1):
        body = plaintext[start : start + part_size]
        etag = raw.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    done = raw.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )
    return done["ETag"]


def assert_like_direct(
    target: Target, bucket: str, key: str, plaintext: bytes, part_size: int | None
) -> None:
    """HEAD and LIST through Cloak give the Size and ETag the store gives for the same
    plaintext put directly, and S3's ETag rule.

    rclone's server gives the whole object's MD5 as the ETag of a multipart object on
    HEAD and LIST (its Complete answer is S3's), so there the direct Complete ETag and
    the computed S3 value are the reference.
    """
    ref_key = f"{bucket}/{key}"
    direct_etag = put_reference(target, ref_key, plaintext, part_size)
    want_etag = expected_etag(plaintext, part_size)
    assert direct_etag == want_etag, f"store's own ETag {direct_etag}, S3 rule {want_etag}"

    raw = target.raw()
    direct_head = raw.head_object(Bucket=target.ref_bucket, Key=ref_key)
    direct_list = _listed(raw, target.ref_bucket, ref_key)
    assert direct_head["ContentLength"] == direct_list["Size"] == len(plaintext)
    if target.store_kind == "moto":
        assert direct_head["ETag"] == direct_list["ETag"] == want_etag

    observer = target.observer()
    head = observer.head_object(Bucket=bucket, Key=key)
    assert (head["ContentLength"], head["ETag"]) == (len(plaintext), want_etag)
    listed = _listed(observer, bucket, key)
    assert (listed["Size"], listed["ETag"]) == (len(plaintext), want_etag)


def assert_range(client, bucket: str, key: str, plaintext: bytes, spec: str) -> None:
    """A Range GET through `client` returns S3's status, Content-Range and bytes."""
    first, last = resolve_range(spec, len(plaintext))
    try:
        got = client.get_object(Bucket=bucket, Key=key, Range=f"bytes={spec}")
        body = got["Body"].read()
    except Exception as err:
        raise AssertionError(f"range {spec}: {err}") from err

    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {first}-{last}/{len(plaintext)}"
    assert got["ContentLength"] == last - first + 1
    assert body == plaintext[first : last + 1], f"range {spec}: wrong bytes"


def resolve_range(spec: str, total: int) -> tuple[int, int]:
    """First and last byte of a satisfiable `a-b`, `a-` or `-n` range over `total`."""
    start, _, end = spec.partition("-")
    if not start:
        return max(0, total - int(end)), total - 1
    return int(start), min(int(end), total - 1) if end else total - 1


def boundary_ranges(size: int, segment: int = 65_536) -> list[str]:
    """Ranges that start, end and span inside and across segment boundaries of an
    object of `size` bytes (at least 4 segments)."""
    assert size >= 4 * segment, "boundary ranges need an object of at least 4 segments"
    last_whole = size // segment * segment
    return [
        f"{segment - 10}-{segment + 9}",
        f"{segment}-{3 * segment - 1}",
        f"{segment + 1}-{last_whole - 1}",
        f"{last_whole - 3}-{last_whole + 2}",
        f"{size - segment - 7}-",
        f"-{segment + 13}",
        "-1",
        f"{size - 1}-{size + 1000}",
    ]


def _listed(client, bucket: str, key: str) -> dict:
    found = client.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
    entries = [o for o in found if o["Key"] == key]
    assert len(entries) == 1, f"{key} listed {len(entries)} times in {bucket}"
    return entries[0]


def _sample_offsets(size: int) -> list[int]:
    if size <= _WINDOW:
        return [0] if size else []
    rng = random.Random(size)
    return [0, size - _WINDOW, *(rng.randrange(0, size - _WINDOW) for _ in range(_WINDOWS))]
