#!/usr/bin/env bash
# Installs what the test suite needs beyond a Rust toolchain, if it is missing:
# Debian's libzmq (the reference library and header for drop-in and header checks), valgrind,
# pkg-config and gcc (with libc6-dev), and the existing bindings scripts/bindings.sh runs on us:
# CZMQ, cppzmq (with g++), Debian's python3-zmq with what its tests use, and Python's venv for PyPI's pyzmq.
# Quiet and idempotent: when everything is present it returns at once.
# Needs root (or passwordless sudo) only when something is missing.
set -euo pipefail

pkgs=(libzmq3-dev libzmq5 valgrind pkg-config gcc libc6-dev
    libczmq-dev cppzmq-dev g++ python3-zmq python3-pytest python3-pytest-timeout python3-tornado
    python3-gevent python3-numpy cython3 python3-dev python3-venv)

missing=()
for p in "${pkgs[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        echo "deps: missing ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}"
    log=$(mktemp)
    export DEBIAN_FRONTEND=noninteractive
    if ! { "${sudo[@]}" apt-get update -qq &&
           "${sudo[@]}" apt-get install -y -qq "${missing[@]}"; } \
           >"$log" 2>&1 </dev/null; then
        cat "$log" >&2
        rm -f "$log"
        echo "deps: apt-get failed" >&2
        exit 1
    fi
    rm -f "$log"
fi

# The Rust side: cargo with rustfmt and clippy (rustup can add the components).
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
command -v cargo >/dev/null || { echo "deps: cargo not found (install Rust with rustup)" >&2; exit 1; }
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null; then
        echo "deps: adding rustfmt and clippy"
        rustup component add rustfmt clippy >/dev/null 2>&1 ||
            { echo "deps: rustup component add rustfmt clippy failed" >&2; exit 1; }
    else
        echo "deps: cargo fmt/clippy missing and no rustup to add them" >&2
        exit 1
    fi
fi
