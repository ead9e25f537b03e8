"""Test harness for Cloak's conformance suite: real S3 clients against real stores.

Layout:
- tools:    where each external tool lives in the venv (scripts/python-env.sh builds it)
- ports:    free loopback ports
- scratch:  temporary directories for one run, removed at exit
- procs:    servers as subprocesses with logs and readiness waits; tools run to completion
- stores:   moto and `rclone serve s3` as local S3 stores
- bao:      OpenBao dev server with transit, the key service
- tls:      a throw-away CA and a server certificate for loopback and S3 host names
- clients:  boto3, AWS CLI, gsutil, s3fs, rclone and s5cmd set up for one endpoint
- tunnel:   an HTTP CONNECT proxy, so gsutil can reach an S3 host name over TLS
- serve:    `python -m harness.serve KIND` runs one server for a non-Python test
"""
