#!/usr/bin/env bash
# Runs the conformance suite: builds the Python venv if needed, then pytest.
#
# CLOAK_BIN, if set, names the proxy binary for the tests that drive it; it is made
# absolute and passed through. Arguments go to pytest (e.g. -k gsutil, -x).
# CONFORMANCE_TIMEOUT caps the whole run in seconds (default 1800).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/python-env.sh" --quiet

if [[ -n "${CLOAK_BIN:-}" ]]; then
    CLOAK_BIN="$(realpath "$CLOAK_BIN")"
    export CLOAK_BIN
fi

# On timeout pytest gets SIGTERM, which conftest turns into an interrupt so servers
# are stopped; SIGKILL follows if it has not exited 30 s later.
cd "$repo"
exec timeout --kill-after=30 "${CONFORMANCE_TIMEOUT:-1800}" \
    "$repo/.venv/bin/python" -m pytest conformance -q "$@"
