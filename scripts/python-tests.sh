#!/usr/bin/env bash
# Runs the Python tests (tests/python, pytest) through pyzmq on an installed libzmq-rs.
#
#   scripts/python-tests.sh PREFIX      PREFIX is where `make install PREFIX=...` put libzmq-rs
#
# pyzmq and pytest come from PyPI into a venv at target/pyenv (created on first use, reused
# after). pytest runs with LD_PRELOAD=PREFIX/lib/libzmq.so.5, so that pyzmq's extension calls
# our library rather than the libzmq bundled in its wheel (tests/python/test_durable.py checks
# that it does). Environment: ZMQ_TEST_TIMEOUT (seconds for the whole pytest run, default 300),
# PYTHON (default python3).
# Ends with one line `python: N passed, N failed`; exits non-zero on failure.
set -euo pipefail

prefix=${1:?usage: $0 PREFIX (where libzmq-rs is installed)}
prefix=$(cd "$prefix" && pwd)
cd "$(dirname "$0")/.."
lib=$prefix/lib/libzmq.so.5
venv=target/pyenv
py=$venv/bin/python
tmo=${ZMQ_TEST_TIMEOUT:-300}

die() { echo "python-tests: $*" >&2; echo "python: 0 passed, 1 failed"; exit 1; }

[ -f "$lib" ] || die "no $lib (run make install PREFIX=$prefix)"

# The venv: reused when it already has pyzmq and pytest.
if ! { [ -x "$py" ] && "$py" -c 'import zmq, pytest' 2>/dev/null; }; then
    rm -rf "$venv"
    python=${PYTHON:-python3}
    command -v "$python" >/dev/null || die "$python not found"
    if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
        # Debian's python3 needs python3-venv for this.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null 2>&1 ||
                { apt-get update -qq >/dev/null 2>&1 &&
                  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null 2>&1; } ||
                die "apt-get install python3-venv failed"
        fi
        rm -rf "$venv"
        "$python" -m venv "$venv" || die "$python -m venv failed"
    fi
    log=$(mktemp)
    if ! "$venv/bin/pip" install -q --disable-pip-version-check 'pyzmq>=25' 'pytest>=7' >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "pip install pyzmq pytest failed"
    fi
    rm -f "$log"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
# No bytecode or cache files in the tree; -rfE lists what failed in the summary.
PYTHONDONTWRITEBYTECODE=1 LIBZMQ_RS=$lib LD_PRELOAD=$lib \
    timeout -k 5 "$tmo" "$py" -m pytest -q -rfE -p no:cacheprovider tests/python \
    >"$out" 2>&1 </dev/null || rc=$?
cat "$out"
summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$out" | tail -n 1 || true)
count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE '[0-9]+' | head -n 1 || true; }
passed=$(count passed)
failed=$(count failed)
errors=$(count error)
passed=${passed:-0}
failed=$((${failed:-0} + ${errors:-0}))
if [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "python-tests: pytest timed out after ${tmo}s"
    failed=$((failed + 1))
elif [ $rc != 0 ] && [ "$failed" = 0 ]; then
    echo "python-tests: pytest exited with $rc"
    failed=1
elif [ "$passed" = 0 ] && [ "$failed" = 0 ]; then
    echo "python-tests: no test ran"
    failed=1
fi
echo "python: $passed passed, $failed failed"
[ "$failed" = 0 ]
