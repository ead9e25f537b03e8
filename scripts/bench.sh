#!/usr/bin/env bash
# The benchmark command: what Cloak costs next to direct access, a minimal forwarder and nginx.
#
#  1. installs nginx from Debian's packages when it is missing (needs root or sudo);
#  2. the pinned Python venv, for the `rclone serve s3` upstream (scripts/python-env.sh);
#  3. release builds of `cloak` and `cloak-loadtest`;
#  4. `cloak-loadtest run`: starts rclone, the floor proxy, nginx and Cloak on loopback, runs
#     the scenarios against each, stops everything, and writes the report.
#
# Output goes to target/bench/ (report.json, report.md, report.svg, server logs).
# Arguments go to `cloak-loadtest run` (e.g. --preset quick, --scenarios large-get).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
step() { printf '\n==> %s\n' "$*" >&2; }

if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    step "installing nginx (Debian package)"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx >/dev/null
    # The package may start a system nginx on port 80; the benchmark starts its own.
    $sudo nginx -s stop 2>/dev/null || true
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

step "Python environment (rclone)"
scripts/python-env.sh --quiet

step "release builds"
cargo build --release -p cloak-proxy --bin cloak -p cloak-loadtest --bin cloak-loadtest

out="$repo/target/bench"
mkdir -p "$out/logs"
step "cloak-loadtest run (report in $out)"
exec target/release/cloak-loadtest run \
    --rclone "$repo/.venv/bin/rclone" \
    --nginx "$nginx_bin" \
    --cloak "$repo/target/release/cloak" \
    --log-dir "$out/logs" \
    --json "$out/report.json" \
    --markdown "$out/report.md" \
    --plot "$out/report.svg" \
    "$@"
