#!/usr/bin/env bash
# Benchmark (not a test): throughput of swap-backed pipes (ZMQ_SWAP), see bench/swap.c.
#
#   scripts/bench-swap.sh [MB]        MB per run (default 500)
#
# Builds the release library, installs it into a temporary prefix, and runs bench/swap.c over
# tcp, ipc and inproc with 1 KiB and 64 KiB messages: a PUSH (SNDHWM 10, swap) fills MB MiB
# into swap files with nobody to send to (fill rate), then a PULL drains it (drain rate); the
# last column streams the same without swap. Swap files go to $TMPDIR (else /tmp). The issue
# asks for at least 200 MB/s through a swap-backed pipe.
set -euo pipefail

cd "$(dirname "$0")/.."
mb=${1:-500}
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-swap.XXXXXX")
trap 'rm -rf "$work"' EXIT
make install PREFIX="$work/prefix" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -pthread $(pkg-config --cflags libzmq) bench/swap.c \
    $(pkg-config --libs libzmq) -o "$work/swap"
echo "swap-backed pipe throughput, $mb MiB per run ($(nproc) cores; swap files in ${TMPDIR:-/tmp})"
for size in 1024 65536; do
    for t in tcp ipc inproc; do
        LD_LIBRARY_PATH=$work/prefix/lib timeout 300 "$work/swap" "$t" "$mb" "$size"
    done
done
