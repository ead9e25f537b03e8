"""gsutil in S3 mode (its vendored boto2, path-style) through Cloak: cp up and down,
cat -r ranges, ls -l and ls -L; signed with SigV4 (`use-sigv4`) and with SigV2, boto's
default for hosts that are not AWS's.

boto2 takes the region from the host name (wire notes §9.1), so requests name
s3.us-east-1.cloak.test and reach Cloak through boto's proxy setting: over HTTP Cloak
itself is the proxy and gets absolute-form requests; over HTTPS a CONNECT tunnel leads
to Cloak, which serves a certificate for that name.
"""

import re

import pytest

from harness import checks, clients, ports, scratch
from harness.checks import MiB
from harness.report import skip_step
from harness.targets import target_params
from harness.tunnel import Tunnel

CLIENT = "gsutil"


@pytest.mark.parametrize("target", target_params(), indirect=True)
@pytest.mark.parametrize("signature", ["SigV4", "SigV2"])
def test_gsutil(target, steps, signature):
    s = steps(f"{CLIENT} {signature}")
    bucket = target.new_bucket("gsutil")
    data = checks.payload(3 * MiB + 12_345)
    work = scratch.new_dir("gsutil-work")
    (work / "up.bin").write_bytes(data)
    url = f"s3://{bucket}/gs/up.bin"

    tunnel = Tunnel((ports.LOOPBACK, target.endpoint.port)) if target.endpoint.is_tls else None
    try:
        proxy = tunnel.address if tunnel else None
        gsutil = clients.gsutil(target.endpoint, proxy=proxy, sigv4=signature == "SigV4")
        _run(s, target, gsutil, bucket, data, work, url)
    finally:
        if tunnel:
            tunnel.close()
    if tunnel:
        assert tunnel.connections > 0, "gsutil did not go through the tunnel to Cloak"
    s.finish()


def _run(s, target, gsutil, bucket, data, work, url):
    @s("cp up")
    def _():
        gsutil.run("cp", str(work / "up.bin"), url)

    @s("cp down", needs=["cp up"])
    def _():
        gsutil.run("cp", url, str(work / "down.bin"))
        assert (work / "down.bin").read_bytes() == data

    @s("cat -r (ranges)", needs=["cp up"])
    def _():
        for spec, first, last in [
            ("65530-131080", 65_530, 131_080),
            (f"{len(data) - 70_000}-", len(data) - 70_000, len(data) - 1),
            ("-65537", len(data) - 65_537, len(data) - 1),
        ]:
            got = gsutil.run_binary("cat", "-r", spec, url)
            assert got == data[first : last + 1], spec

    @s("ls -l (size)", needs=["cp up"])
    def _():
        out = gsutil.run("ls", "-l", f"s3://{bucket}/gs/").stdout
        sizes = [int(line.split()[0]) for line in out.splitlines() if line.strip().endswith(url)]
        assert sizes == [len(data)], out

    @s("ls -L (ETag, length)", needs=["cp up"])
    def _():
        if target.store_kind == "rclone":
            # ls -L also reads the object's ACL (GET ?acl); rclone's server ignores the
            # sub-resource and sends the object, so gsutil fails directly against it too.
            skip_step("rclone's server has no GetObjectAcl")
        out = gsutil.run("ls", "-L", url).stdout
        etag = re.search(r"ETag:\s+(\S+)", out)
        length = re.search(r"Content-Length:\s+(\d+)", out)
        assert etag and etag.group(1).strip('"') == checks.md5_etag(data).strip('"'), out
        assert length and int(length.group(1)) == len(data), out

    @s("HEAD, LIST size and ETag as S3", needs=["cp up"])
    def _():
        checks.assert_like_direct(target, bucket, "gs/up.bin", data, None)

    @s("stored as ciphertext", needs=["cp up"])
    def _():
        checks.assert_ciphertext(target, bucket, "gs/up.bin", data)
