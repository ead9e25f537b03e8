"""s3fs/fsspec (aiobotocore) through Cloak, read the way ML data loaders read: a large
object opened once, then many random ranged reads, each carrying If-Match with the
ETag s3fs got from HEAD."""

import random

import pytest
from s3fs.utils import FileExpired

from harness import checks, clients
from harness.checks import MiB
from harness.targets import target_params

CLIENT = "s3fs"
# s3fs's write block; whole segments, so Cloak accepts the parts.
BLOCK = 5 * MiB


@pytest.mark.parametrize("target", target_params(), indirect=True)
def test_s3fs(target, steps):
    s = steps(CLIENT)
    fs = clients.s3fs_filesystem(target.endpoint)
    bucket = target.new_bucket("s3fs")
    data = checks.payload(24 * MiB + 999)
    written = checks.payload(12 * MiB + 5)
    path = f"{bucket}/shards/train-000.bin"
    sent_if_match, part_sizes = [], []
    fs.s3.meta.events.register(
        "before-call.s3.GetObject",
        lambda params, **_: sent_if_match.append(params.get("headers", {}).get("If-Match")),
    )
    fs.s3.meta.events.register(
        "before-call.s3.UploadPart", lambda params, **_: part_sizes.append(_size(params["body"]))
    )

    @s("pipe_file (single PUT)")
    def _():
        fs.pipe_file(path, data)

    @s("info, ls sizes", needs=["pipe_file (single PUT)"])
    def _():
        assert fs.info(path)["size"] == len(data)
        assert fs.ls(f"{bucket}/shards", detail=True)[0]["size"] == len(data)

    @s("random ranged reads with If-Match", needs=["pipe_file (single PUT)"])
    def _():
        rng = random.Random(7)
        sent_if_match.clear()
        with fs.open(path, "rb", block_size=256 * 1024, cache_type="none") as handle:
            for _ in range(40):
                start = rng.randrange(0, len(data) - 1)
                length = rng.choice([1, 4096, 65_535, 65_537, 300_000, 1 * MiB + 3])
                handle.seek(start)
                assert handle.read(length) == data[start : start + length], (start, length)
        etag = checks.md5_etag(data)
        assert sent_if_match and all(v == etag for v in sent_if_match), sent_if_match[:3]

    @s("cat_file ranges", needs=["pipe_file (single PUT)"])
    def _():
        for start, end in [(0, 1), (65_530, 65_542), (len(data) - 70_000, None), (-5, None)]:
            want = data[start:end]
            assert fs.cat_file(path, start=start, end=end) == want, (start, end)

    @s("cat_ranges: 32 ranges at once", needs=["pipe_file (single PUT)"])
    def _():
        rng = random.Random(11)
        starts = [rng.randrange(0, len(data) - 200_000) for _ in range(32)]
        ends = [start + rng.randrange(1, 200_000) for start in starts]
        got = fs.cat_ranges([path] * len(starts), starts, ends)
        assert got == [data[a:b] for a, b in zip(starts, ends)]

    @s("stale read refused after overwrite (If-Match)", needs=["pipe_file (single PUT)"])
    def _():
        other = f"{bucket}/shards/changing.bin"
        fs.pipe_file(other, data[: 2 * MiB])
        with fs.open(other, "rb", block_size=64 * 1024, cache_type="none") as handle:
            assert handle.read(10) == data[:10]
            fs.pipe_file(other, data[2 * MiB : 4 * MiB])
            # Cloak evaluates If-Match against the plaintext ETag: 412, which s3fs
            # turns into FileExpired.
            with pytest.raises(FileExpired):
                handle.seek(MiB)
                handle.read(10)

    @s("open(wb) multipart (5 MiB blocks)")
    def _():
        with fs.open(f"{bucket}/written.bin", "wb", block_size=BLOCK) as handle:
            for start in range(0, len(written), 3 * MiB):
                handle.write(written[start : start + 3 * MiB])
        assert fs.cat_file(f"{bucket}/written.bin") == written
        assert len(part_sizes) > 1 and set(part_sizes[:-1]) == {part_sizes[0]}, part_sizes

    @s("HEAD, LIST size and ETag as S3", needs=["pipe_file (single PUT)"])
    def _():
        checks.assert_like_direct(target, bucket, "shards/train-000.bin", data, None)
        if s.outcome("open(wb) multipart (5 MiB blocks)") == "pass":
            checks.assert_like_direct(target, bucket, "written.bin", written, part_sizes[0])

    @s("stored as ciphertext", needs=["pipe_file (single PUT)"])
    def _():
        checks.assert_ciphertext(target, bucket, "shards/train-000.bin", data)
        if s.outcome("open(wb) multipart (5 MiB blocks)") == "pass":
            checks.assert_ciphertext(target, bucket, "written.bin", written)

    s.finish()


def _size(body) -> int:
    # s3fs hands botocore each part as bytes or as a BytesIO.
    return len(body.getbuffer()) if hasattr(body, "getbuffer") else len(body)
