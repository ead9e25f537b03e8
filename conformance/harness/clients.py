"""Each S3 client under test, set up to talk to one endpoint with given credentials.

In-process clients (boto3, s3fs) are returned ready to use. Command-line clients are
returned as a Tool: the argv prefix that points the tool at the endpoint, and an
environment in which nothing from the machine (AWS_* variables, ~/.aws, ~/.boto,
proxies) can leak in. Each command-line tool gets its own HOME in a scratch directory,
so that its config and state files are written there and nowhere else.
"""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import procs, scratch, tools
from .tls import S3_HOST

# Variables that would point a client somewhere else or give it other credentials.
_SCRUBBED_PREFIXES = ("AWS_", "BOTO_", "RCLONE_", "VAULT_", "BAO_", "S3_", "CLOUDSDK_")
_SCRUBBED_NAMES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}

RCLONE_REMOTE = "cloak"


@dataclass(frozen=True)
class Endpoint:
    """Where a client sends requests and with which credentials.

    `ca_bundle` is the PEM file a TLS endpoint's certificate chains to; None for plain
    HTTP or a certificate the system already trusts.
    """

    url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    ca_bundle: Path | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def is_tls(self) -> bool:
        return urlsplit(self.url).scheme == "https"


@dataclass(frozen=True)
class Tool:
    """A command-line client: its argv prefix and the environment to run it in."""

    argv: tuple[str, ...]
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """Run the tool with extra arguments; raises procs.ToolFailed on failure."""
        return procs.run([*self.argv, *args], env=self.env, timeout=timeout)

    def run_binary(self, *args: str, stdin: bytes = b"", timeout: float = 120.0) -> bytes:
        """Run the tool with `stdin` as its input and return its standard output as
        bytes (`cat` of an object, `cp - s3://...` from a pipe)."""
        done = subprocess.run(
            [*self.argv, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace")
            raise procs.ToolFailed(f"{' '.join(args)}: exited {done.returncode}\n{stderr}")
        return done.stdout


def clean_env(home: Path) -> dict[str, str]:
    """This process's environment without anything that configures an S3 client."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_SCRUBBED_PREFIXES) and key.lower() not in _SCRUBBED_NAMES
    }
    env["HOME"] = str(home)
    # Without credentials botocore and the Go SDK would ask the EC2 metadata address,
    # which is not loopback. Every client here gets credentials, but never risk it.
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def boto3_client(
    ep: Endpoint,
    *,
    checksum: str = "when_supported",
    signature_version: str = "s3v4",
    addressing_style: str = "path",
    max_attempts: int = 2,
):
    """A boto3 S3 client. `checksum` is 'when_supported' (botocore's default since
    1.36) or 'when_required'. `signature_version='s3v4'` also makes presigned URLs
    SigV4; botocore otherwise presigns with SigV2 for custom endpoints."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=ep.access_key,
        aws_secret_access_key=ep.secret_key,
        region_name=ep.region,
    )
    config = Config(
        signature_version=signature_version,
        s3={"addressing_style": addressing_style},
        request_checksum_calculation=checksum,
        response_checksum_validation=checksum,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    # An explicit `verify` wins over AWS_CA_BUNDLE, which this machine sets globally.
    verify = str(ep.ca_bundle) if ep.ca_bundle else True
    return session.client("s3", endpoint_url=ep.url, config=config, verify=verify)


def s3fs_filesystem(ep: Endpoint, *, checksum: str = "when_supported"):
    """An s3fs filesystem (aiobotocore underneath), uncached so each call is fresh."""
    import s3fs

    return s3fs.S3FileSystem(
        key=ep.access_key,
        secret=ep.secret_key,
        endpoint_url=ep.url,
        client_kwargs={
            "region_name": ep.region,
            "verify": str(ep.ca_bundle) if ep.ca_bundle else True,
        },
        config_kwargs={
            "signature_version": "s3v4",
            "s3": {"addressing_style": "path"},
            "request_checksum_calculation": checksum,
            "response_checksum_validation": checksum,
            "retries": {"max_attempts": 2, "mode": "standard"},
        },
        skip_instance_cache=True,
        use_listings_cache=False,
    )


def aws_cli(ep: Endpoint, *, checksum: str = "when_supported") -> Tool:
    """AWS CLI v1, configured through AWS_CONFIG_FILE and a credentials file."""
    home = scratch.new_dir("aws-cli")
    config = home / "config"
    config.write_text(
        "[default]\n"
        f"region = {ep.region}\n"
        f"endpoint_url = {ep.url}\n"
        f"request_checksum_calculation = {checksum}\n"
        f"response_checksum_validation = {checksum}\n"
        "max_attempts = 2\n"
        "s3 =\n"
        "    addressing_style = path\n"
        "    signature_version = s3v4\n"
    )
    credentials = _private_file(
        home / "credentials",
        "[default]\n"
        f"aws_access_key_id = {ep.access_key}\n"
        f"aws_secret_access_key = {ep.secret_key}\n",
    )
    env = clean_env(home)
    env["AWS_CONFIG_FILE"] = str(config)
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(credentials)
    if ep.ca_bundle:
        env["AWS_CA_BUNDLE"] = str(ep.ca_bundle)
    return Tool(argv=(tools.path("aws"),), env=env)


def gsutil(
    ep: Endpoint,
    *,
    s3_host: str = S3_HOST,
    proxy: tuple[str, int] | None = None,
    sigv4: bool = True,
) -> Tool:
    """gsutil in S3 mode through a boto config (wire notes §9.1). With `sigv4` False,
    boto signs with Signature Version 2, its default for hosts that are not AWS's.

    boto takes the region from the host name and crashes on one without an `s3`
    label, so requests name `s3_host`, and reach the endpoint through boto's proxy
    setting instead of DNS. Over plain HTTP the endpoint itself is the proxy: requests
    arrive in absolute form (`PUT http://s3_host/bucket/key`). Over TLS boto sends
    `CONNECT s3_host:443` to the proxy, so pass a tunnel.Tunnel's address as `proxy`.

    `s3_port` is left unset on purpose: boto's SigV4 signer appends a non-default port
    to a host that already carries it, and signs and sends `Host: h:port:port`. With
    the default port, the Host header is the bare `s3_host`.
    """
    if proxy is None:
        if ep.is_tls:
            raise ValueError("gsutil over TLS needs a CONNECT tunnel as its proxy")
        proxy = (ep.host, ep.port)

    home = scratch.new_dir("gsutil")
    tls_lines = ""
    if ep.ca_bundle:
        tls_lines = f"ca_certificates_file = {ep.ca_bundle}\n"
    boto_config = _private_file(
        home / "boto.cfg",
        "[Credentials]\n"
        f"aws_access_key_id = {ep.access_key}\n"
        f"aws_secret_access_key = {ep.secret_key}\n"
        f"s3_host = {s3_host}\n"
        "\n[s3]\n"
        f"use-sigv4 = {sigv4}\n"
        f"host = {s3_host}\n"
        "calling_format = boto.s3.connection.OrdinaryCallingFormat\n"
        "\n[Boto]\n"
        f"proxy = {proxy[0]}\n"
        f"proxy_port = {proxy[1]}\n"
        f"is_secure = {ep.is_tls}\n"
        "https_validate_certificates = True\n"
        f"{tls_lines}"
        "num_retries = 1\n"
        "http_socket_timeout = 60\n"
        "\n[GSUtil]\n"
        f"state_dir = {home / 'state'}\n"
        "software_update_check_period = 0\n"
        "use_gcloud_storage = False\n"
        "parallel_process_count = 1\n"
        "parallel_thread_count = 1\n",
    )
    env = clean_env(home)
    env["BOTO_CONFIG"] = str(boto_config)
    return Tool(argv=(tools.path("gsutil"),), env=env)


def rclone(ep: Endpoint) -> Tool:
    """rclone with one S3 remote named RCLONE_REMOTE (`cloak:bucket/key`)."""
    home = scratch.new_dir("rclone")
    config = _private_file(
        home / "rclone.conf",
        f"[{RCLONE_REMOTE}]\n"
        "type = s3\n"
        "provider = Other\n"
        f"access_key_id = {ep.access_key}\n"
        f"secret_access_key = {ep.secret_key}\n"
        f"endpoint = {ep.url}\n"
        f"region = {ep.region}\n"
        "force_path_style = true\n",
    )
    argv = [tools.path("rclone"), "--config", str(config), "--retries", "1"]
    argv += ["--low-level-retries", "1"]
    if ep.ca_bundle:
        argv += ["--ca-cert", str(ep.ca_bundle)]
    return Tool(argv=tuple(argv), env=clean_env(home))


def s5cmd(ep: Endpoint) -> Tool:
    """s5cmd (aws-sdk-go v1): endpoint by flag; credentials, region and CA bundle by
    the SDK's environment variables."""
    env = clean_env(scratch.new_dir("s5cmd"))
    env["AWS_ACCESS_KEY_ID"] = ep.access_key
    env["AWS_SECRET_ACCESS_KEY"] = ep.secret_key
    env["AWS_REGION"] = ep.region
    if ep.ca_bundle:
        env["AWS_CA_BUNDLE"] = str(ep.ca_bundle)
    argv = (tools.path("s5cmd"), "--endpoint-url", ep.url, "--retry-count", "1")
    return Tool(argv=argv, env=env)


def _private_file(path: Path, text: str) -> Path:
    # Config files holding a secret are readable by their owner only.
    path.touch(mode=0o600)
    path.write_text(text)
    return path
