#!/usr/bin/env bash
# The whole test suite (`make test`, and what .ci/run runs):
#   deps, rustfmt, clippy -D warnings, cargo test (unit tests + header drift), committed header,
#   make install into a temporary prefix, SONAME, installed files, pkg-config (shared and
#   static, with a statically linked C program), DESTDIR install/uninstall, exported symbols
#   against capi-tests/abi/symbols.txt and Debian's libzmq, ../shared/tools/header-check.sh,
#   a smoke run of each installed perf tool (tiny counts, no timing assertion; `make bench`
#   measures), the C API tests (scripts/capi-tests.sh), the wire interop runs against
#   Debian's libzmq (scripts/interop.sh), the Python tests through pyzmq
#   (scripts/python-tests.sh) and existing bindings' own test suites on our library
#   (scripts/bindings.sh: pyzmq, CZMQ, Debian's python3-zmq, the Rust zmq crate).
# Every check runs even when an earlier one failed (except when the install itself fails); the
# last line is `N passed, N failed` over all checks, C test program runs, interop runs, Python
# tests and binding suite checks.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

scripts/deps.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/libzmq-rs-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
log=$work/log
passed=0
failed=0
failures=()
start=$SECONDS

# check NAME CMD...: runs CMD with its output in a log; counts and reports it.
check() {
    local name=$1 t0=$SECONDS
    shift
    rm -f "$work/note"
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        printf 'ok   %-28s (%ds)%s\n' "$name" $((SECONDS - t0)) "$(note)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf 'FAIL %-28s (%ds)\n' "$name" $((SECONDS - t0))
        if [ "$(wc -l <"$log")" -gt 80 ] && grep -q '^error' "$log"; then
            # Long compiler output: the error lines and their locations.
            grep -A1 -E '^error' "$log" | grep -v '^--$' | head -n 80 | sed 's/^/  | /'
        else
            tail -n 80 "$log" | sed 's/^/  | /'
        fi
    fi
}
# A check may leave a one-line note for the ok line in $work/note.
note() { if [ -s "$work/note" ]; then echo " $(cat "$work/note")"; rm -f "$work/note"; fi; }
skip() { echo "SKIP $1: $2"; }

# Functions run under `if`, where set -e is off: every step below chains with && or returns.

committed_header() {
    git diff --exit-code -- include/zmq.h ||
        { echo "include/zmq.h differs from the committed one: commit the regenerated header"; return 1; }
}

soname() {
    local so
    so=$(readelf -d "$prefix/lib/libzmq.so.5.2.5" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
    echo "SONAME: $so"
    [ "$so" = libzmq.so.5 ]
}

PERF_TOOLS=(local_thr remote_thr local_lat remote_lat inproc_thr inproc_lat proxy_thr
            pub_thr sub_thr router_thr dealer_thr)

installed_files() {
    local ok=0 f
    for f in lib/libzmq.so.5.2.5 lib/libzmq.a include/zmq.h include/zmq_utils.h lib/pkgconfig/libzmq.pc \
        "${PERF_TOOLS[@]/#/bin/}"; do
        [ -f "$prefix/$f" ] && [ ! -L "$prefix/$f" ] || { echo "missing file: $f"; ok=1; }
    done
    [ "$(readlink "$prefix/lib/libzmq.so.5")" = libzmq.so.5.2.5 ] || { echo "bad link lib/libzmq.so.5"; ok=1; }
    [ "$(readlink "$prefix/lib/libzmq.so")" = libzmq.so.5 ] || { echo "bad link lib/libzmq.so"; ok=1; }
    [ -e "$prefix/lib/libzmq.so" ] || { echo "lib/libzmq.so dangles"; ok=1; }
    return $ok
}

pc() { PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config "$@" libzmq; }

pkgconfig_flags() {
    local flags static
    flags=$(pc --cflags --libs) && static=$(pc --static --libs) || return 1
    echo "cflags/libs: $flags"
    echo "static libs: $static"
    [ "$(pc --modversion)" = 4.3.5 ] || { echo "modversion is not 4.3.5"; return 1; }
    [[ " $flags " == *" -I$prefix/include "* ]] || { echo "no -I$prefix/include"; return 1; }
    [[ " $flags " == *" -L$prefix/lib "* && " $flags " == *" -lzmq "* ]] || { echo "no -L$prefix/lib -lzmq"; return 1; }
    [[ " $static " == *" -lzmq "* && " $static " == *" -lpthread "* ]] || { echo "--static lacks -lzmq or Libs.private"; return 1; }
}

static_link() {
    local d=$work/static cflags libs
    mkdir -p "$d" &&
        cat >"$d/t.c" <<'C' &&
#include <stdio.h>
#include <zmq.h>
int main (void)
{
    int major, minor, patch;
    zmq_msg_t m;
    zmq_version (&major, &minor, &patch);
    if (zmq_msg_init_size (&m, 100) != 0 || zmq_msg_size (&m) != 100 || zmq_msg_close (&m) != 0)
        return 1;
    printf ("static %d.%d.%d\n", major, minor, patch);
    return 0;
}
C
        cflags=$(pc --cflags) && libs=$(pc --static --libs) || return 1
    # -l:libzmq.a makes the linker take the archive although libzmq.so sits beside it.
    libs=$(sed -E 's/(^| )-lzmq( |$)/\1-l:libzmq.a\2/' <<<"$libs")
    echo "cc $cflags t.c $libs"
    # shellcheck disable=SC2086
    cc -Wall -Wextra -Werror $cflags "$d/t.c" $libs -o "$d/t" || return 1
    if readelf -d "$d/t" | grep -q 'NEEDED.*libzmq'; then echo "links libzmq.so dynamically"; return 1; fi
    local out
    out=$(env -u LD_LIBRARY_PATH "$d/t") || { echo "static program failed"; return 1; }
    echo "$out"
    [ "$out" = "static 4.3.5" ]
}

destdir_roundtrip() {
    local dest=$work/dest left
    make install DESTDIR="$dest" || return 1
    [ -f "$dest/usr/local/lib/libzmq.so.5.2.5" ] || { echo "DESTDIR install put nothing in $dest/usr/local/lib"; return 1; }
    grep -qx 'prefix=/usr/local' "$dest/usr/local/lib/pkgconfig/libzmq.pc" || { echo "libzmq.pc prefix is not /usr/local"; return 1; }
    [ -x "$dest/usr/local/bin/local_thr" ] || { echo "DESTDIR install put no perf tools in $dest/usr/local/bin"; return 1; }
    make uninstall DESTDIR="$dest" || return 1
    left=$(find "$dest" ! -type d)
    [ -z "$left" ] || { echo "left behind after uninstall:"; echo "$left"; return 1; }
}

symbols() {
    local lib=$prefix/lib/libzmq.so.5.2.5 deb list=capi-tests/abi/symbols.txt bad
    deb=/usr/lib/$(cc -print-multiarch)/libzmq.so.5
    nm -D --defined-only "$lib" | awk '$2=="T"{print $3}' | LC_ALL=C sort >"$work/syms" || return 1
    diff -u --label "$list" --label "exported by libzmq.so" "$list" "$work/syms" ||
        { echo "exported functions differ from $list (update it if the change is intended)"; return 1; }
    bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^zmq_' || true)
    [ -z "$bad" ] || { echo "exported symbols outside zmq_*:"; echo "$bad"; return 1; }
    [ -f "$deb" ] || { echo "Debian's libzmq.so.5 missing at $deb"; return 1; }
    nm -D --defined-only "$deb" | awk '$2=="T"{print $3}' | LC_ALL=C sort >"$work/deb-syms" || return 1
    bad=$(LC_ALL=C comm -23 "$work/deb-syms" "$list")
    [ -z "$bad" ] || { echo "Debian's libzmq exports these and $list lacks them:"; echo "$bad"; return 1; }
    echo "($(wc -l <"$list") functions, all $(wc -l <"$work/deb-syms") of Debian's)" >"$work/note"
}

header_check() {
    local out rc=0
    # TMPDIR: the tool leaves its scratch directory behind when it reports differences.
    out=$(TMPDIR=$work bash "$header_check_sh" "$prefix" 2>&1) || rc=$?
    echo "$out"
    [ $rc = 0 ] && return 0
    # We are 4.3.5 and Debian is 4.3.4: exactly these two values may differ, nothing else.
    if [ "$(tr -s ' ' <<<"$out" | sed 's/ $//')" = "values differ: > ZMQ_VERSION=40305 > ZMQ_VERSION_PATCH=5" ]; then
        echo "(only the expected 4.3.5 vs 4.3.4 version differences)" >"$work/note"
        return 0
    fi
    return 1
}

# perf_smoke_no_watch CASE: perf_smoke with LIBZMQ_RS_SPIN_US=0 (threads never watch for work
# before sleeping: the blocking paths alone must carry the traffic).
perf_smoke_no_watch() {
    (export LIBZMQ_RS_SPIN_US=0 && perf_smoke "$@")
}

# perf_smoke CASE: run installed perf tools once with tiny counts on our library; every process
# must exit 0 within the timeout and print a RESULT line saying it ran on our libzmq.so.5. No
# timing is checked: the numbers come from `make bench`.
perf_smoke() {
    local d=$work/perf-smoke/$1 ep pids=() p rc=0 f port
    rm -rf "$d" && mkdir -p "$d" || return 1
    port=$((21000 + RANDOM % 30000))
    run() { # tag tool args...
        local tag=$1 tool=$2
        shift 2
        echo "+ $tool $*"
        LD_LIBRARY_PATH=$prefix/lib timeout 30 "$prefix/bin/$tool" "$@" >"$d/$tag.out" 2>"$d/$tag.err" &
        pids+=($!)
    }
    case $1 in
    thr) ep=tcp://127.0.0.1:$port
        run recv local_thr "$ep" 64 1000; sleep 0.05; run send remote_thr "$ep" 64 1000 ;;
    lat) ep=ipc://$d/lat.ipc
        run echo local_lat "$ep" 64 100; sleep 0.05; run ping remote_lat "$ep" 64 100 ;;
    inproc_thr) run main inproc_thr 64 1000 ;;
    inproc_lat) run main inproc_lat 64 100 ;;
    proxy) run tcp proxy_thr 64 1000 tcp; run ipc proxy_thr 64 1000 ipc; run inproc proxy_thr 64 1000 inproc ;;
    pubsub) ep=tcp://127.0.0.1:$port
        run pub pub_thr "$ep" 64 1000 2; sleep 0.05; run sub1 sub_thr "$ep" 64 1000; run sub2 sub_thr "$ep" 64 1000 ;;
    router) ep=tcp://127.0.0.1:$port
        run router router_thr "$ep" 64 100 2; sleep 0.05; run dealer1 dealer_thr "$ep" 64 100 10
        run dealer2 dealer_thr "$ep" 64 100 1 ;;
    esac
    for p in "${pids[@]}"; do wait "$p" || rc=$?; done
    for f in "$d"/*.out; do
        cat "$f" "${f%.out}.err"
        grep -q "^RESULT tool=.* lib=$prefix/lib/libzmq.so.5\$" "$f" ||
            { echo "$(basename "$f" .out): no RESULT line naming $prefix/lib/libzmq.so.5"; rc=1; }
    done
    [ $rc = 0 ] || echo "exit status $rc"
    return $rc
}

# suite LABEL NAME CMD...: runs a runner whose last line is `NAME: N passed, N failed` and adds
# its counts; a runner that fails without counting a failure, or prints no such line, counts
# as one failure.
suite() {
    local label=$1 name=$2 rc=0 summary
    shift 2
    "$@" | tee "$work/$name.out" || rc=$?
    summary=$(tail -n 1 "$work/$name.out")
    if [[ $summary =~ ^$name:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        [ "${BASH_REMATCH[2]}" = 0 ] || failures+=("$label tests")
        if [ $rc != 0 ] && [ "${BASH_REMATCH[2]}" = 0 ]; then failed=$((failed + 1)); failures+=("$label runner"); fi
    else
        failed=$((failed + 1))
        failures+=("$label runner")
    fi
}

echo "== libzmq-rs test suite"
check "cargo fmt --check" cargo fmt --check
check "cargo clippy -D warnings" cargo clippy --all-targets -- -D warnings
check "cargo test" cargo test
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    check "committed include/zmq.h" committed_header
else
    skip "committed include/zmq.h" "not a git checkout"
fi

check "make install PREFIX=tmp" make install PREFIX="$prefix"
if [ ! -f "$prefix/lib/pkgconfig/libzmq.pc" ]; then
    echo "install failed: skipping every check that needs the installed library"
    failed=$((failed + 1))
else
    check "SONAME libzmq.so.5" soname
    check "installed files" installed_files
    check "pkg-config" pkgconfig_flags
    check "static link via pkg-config" static_link
    check "DESTDIR install/uninstall" destdir_roundtrip
    check "exported symbols" symbols
    check "perf tools: local/remote_thr" perf_smoke thr
    check "perf tools: local/remote_lat" perf_smoke lat
    check "perf tools: inproc_thr" perf_smoke inproc_thr
    check "perf tools: inproc_lat" perf_smoke inproc_lat
    check "perf tools: proxy_thr" perf_smoke proxy
    check "perf tools: pub_thr/sub_thr" perf_smoke pubsub
    check "perf tools: router/dealer_thr" perf_smoke router
    check "perf tools: lat, watch off" perf_smoke_no_watch lat
    check "perf tools: inproc_lat, watch off" perf_smoke_no_watch inproc_lat
    header_check_sh=$root/../shared/tools/header-check.sh
    if [ -f "$header_check_sh" ]; then
        check "header-check vs Debian zmq.h" header_check
    else
        skip "header-check vs Debian zmq.h" "$header_check_sh not found (../shared is missing)"
    fi

    echo "== C API tests"
    suite "C API" capi scripts/capi-tests.sh "$prefix"
    echo "== wire interop with Debian's libzmq"
    suite "interop" interop scripts/interop.sh "$prefix"
    echo "== Python tests (pyzmq on libzmq-rs)"
    suite "Python" python scripts/python-tests.sh "$prefix"
    echo "== existing bindings on libzmq-rs"
    suite "bindings" bindings scripts/bindings.sh "$prefix"
fi

echo "== $((SECONDS - start))s${failures:+; failed: $(IFS=,; echo "${failures[*]}")}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
