#!/usr/bin/env bash
# Creates the Python venv the conformance suite runs in, at .venv in the repo root.
#
# Everything comes from PyPI, pinned by conformance/requirements.txt (the tools) and
# conformance/constraints.txt (every transitive package). The pip cache lives in the
# repo's .cache/ so that nothing outside the work tree is needed or left behind.
#
# A stamp records what the venv was built from; when it still matches, the install is
# skipped and only the tool check runs, so calling this before every test run is cheap.
#
# Usage: scripts/python-env.sh            build if needed, then print tool paths
#        scripts/python-env.sh --quiet    the same, printing only errors
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
reqs="$repo/conformance/requirements.txt"
constraints="$repo/conformance/constraints.txt"
stamp="$venv/.cloak-stamp"
pip_version="26.3"
quiet=0
[[ "${1:-}" == "--quiet" ]] && quiet=1

log() { [[ $quiet == 1 ]] || echo "python-env: $*" >&2; }

# The stamp covers the pins, the interpreter and pip, so a change to any of them
# rebuilds the venv from scratch instead of layering over a stale one.
want_stamp() {
    {
        cat "$reqs" "$constraints"
        python3 -c 'import sys; print(sys.version)'
        echo "pip $pip_version"
    } | sha256sum | cut -d' ' -f1
}

build_venv() {
    log "building $venv (first run takes a minute or two)"
    rm -rf "$venv"
    python3 -m venv "$venv"

    # This machine points pip at a local wheel folder; ignore it, so that what gets
    # installed never depends on what one machine happens to hold there.
    export PIP_CACHE_DIR="$repo/.cache/pip" PIP_FIND_LINKS="" PIP_DISABLE_PIP_VERSION_CHECK=1
    "$venv/bin/python" -m pip install -q "pip==$pip_version"
    "$venv/bin/python" -m pip install -q -r "$reqs" -c "$constraints"
    "$venv/bin/python" -m pip check >/dev/null
}

# Concurrent callers (parallel cargo tests, say) wait here rather than build twice.
mkdir -p "$repo/.cache"
exec 9>"$repo/.cache/python-env.lock"
flock 9

want="$(want_stamp)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "venv up to date"
else
    build_venv
    echo "$want" >"$stamp"
fi

# Prove every tool runs, and say where it is; the harness finds them the same way.
if [[ $quiet == 1 ]]; then
    (cd "$repo/conformance" && "$venv/bin/python" -m harness.tools >/dev/null)
else
    (cd "$repo/conformance" && "$venv/bin/python" -m harness.tools)
fi
