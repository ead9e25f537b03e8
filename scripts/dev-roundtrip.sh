#!/usr/bin/env bash
# Puts a large random file through `cloak serve --dev` with the AWS CLI and back, checks the
# copy is bit-exact and the stored bytes are not the plaintext, and reports the proxy's peak
# resident memory (VmHWM). A measurement, not a test: run it by hand.
#
# Usage: scripts/dev-roundtrip.sh [SIZE_MIB]     (default 1024; uses target/release/cloak)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_mib="${1:-1024}"
cloak="${CLOAK_BIN:-$repo/target/release/cloak}"
[[ -x "$cloak" ]] || cargo build --release -p cloak-proxy --bin cloak
"$repo/scripts/python-env.sh" --quiet
aws="$repo/.venv/bin/aws"

work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$cloak" serve --dev --data-dir "$work/dev" --listen "127.0.0.1:$port" >"$work/banner" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do
    [[ -f "$work/dev/client-secret" ]] && grep -q "listening" "$work/log" 2>/dev/null && break
    sleep 0.1
done

export AWS_ACCESS_KEY_ID=CLOAKDEVACCESSKEY AWS_DEFAULT_REGION=us-east-1
AWS_SECRET_ACCESS_KEY="$(cat "$work/dev/client-secret")"
export AWS_SECRET_ACCESS_KEY AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
endpoint="http://127.0.0.1:$port"

head -c "$((size_mib << 20))" /dev/urandom >"$work/up.bin"
start=$(date +%s.%N)
"$aws" --endpoint-url "$endpoint" s3 cp --only-show-errors "$work/up.bin" s3://demo/big.bin
mid=$(date +%s.%N)
"$aws" --endpoint-url "$endpoint" s3 cp --only-show-errors s3://demo/big.bin "$work/down.bin"
end=$(date +%s.%N)

cmp "$work/up.bin" "$work/down.bin"
stored="$(find "$work/dev/store/demo" -name 'big.bin*' -type f | head -1)"
if cmp -s -n 1048576 "$work/up.bin" "$stored"; then
    echo "FAIL: the store holds plaintext" >&2
    exit 1
fi
listed="$("$aws" --endpoint-url "$endpoint" s3api head-object --bucket demo --key big.bin \
    --query ContentLength --output text)"
[[ "$listed" == "$((size_mib << 20))" ]] || { echo "FAIL: HEAD says $listed bytes" >&2; exit 1; }

hwm="$(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")"
printf 'round trip of %s MiB: bit-exact; stored %s bytes of ciphertext\n' "$size_mib" \
    "$(stat -c %s "$stored")"
python3 -c "print(f'aws s3 cp up {$mid - $start:.1f} s, down {$end - $mid:.1f} s')"
printf 'cloak peak RSS (VmHWM): %s\n' "$hwm"
