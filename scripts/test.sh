#!/usr/bin/env bash
# The one test command: everything CI runs, in order.
#
#  1. the pinned Python venv with the real stores, key servers and clients (scripts/python-env.sh);
#  2. formatting and lints (cargo fmt --check, cargo clippy -D warnings);
#  3. every Rust test in the workspace (unit, property, known-answer, integration);
#  4. the conformance suite: real clients through `cloak` against real stores.
#
# It installs what it needs from the package registries and starts every server it needs on
# loopback itself. Pass --quick to skip the conformance suite.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

step() { printf '\n==> %s\n' "$*"; }

# CI builds once in a fresh clone: incremental state would only fill the disk.
if [[ "${CI:-}" == "true" ]]; then
    export CARGO_INCREMENTAL=0
fi

step "Python environment (stores, key servers, clients)"
scripts/python-env.sh --quiet
export CLOAK_MOTO_BIN="$repo/.venv/bin/moto_server"
export CLOAK_BAO_BIN="$repo/.venv/bin/bao"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

if [[ $quick -eq 0 ]]; then
    step "conformance suite"
    cargo build -p cloak-proxy --bin cloak
    CLOAK_BIN="$repo/target/debug/cloak" conformance/run.sh
fi
