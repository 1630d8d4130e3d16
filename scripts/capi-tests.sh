#!/usr/bin/env bash
# Builds and runs the C API tests in capi-tests/ against an installed libzmq-rs.
#
#   scripts/capi-tests.sh PREFIX        PREFIX is where `make install PREFIX=...` put libzmq-rs
#
# Each capi-tests/*.c is a self-checking program ending its stdout with `name: N passed,
# N failed` and exiting non-zero on failure. For each one:
#   ours      built against our zmq.h/libzmq via pkg-config, run against ours
#   debian    built against Debian's /usr/include/zmq.h and -lzmq, run against Debian's libzmq5
#   drop-in   that same Debian-built binary run against ours (LD_LIBRARY_PATH); its stdout must
#             equal the Debian run's
#   valgrind  the `ours` binary under valgrind (definite/indirect leaks and errors fail)
#   asan      built with -fsanitize=address,undefined against ours, run against ours
# capi-tests/ours/*.c test libzmq-rs-only behaviour and get ours, valgrind and asan only.
#
# A test file with a line `// transports: inproc tcp ipc` (the pattern tests) is built once and
# run that way over each transport it names, with ZMQ_TEST_TRANSPORT set (capi-tests/testutil.h
# turns its logical endpoint names into endpoints of that transport); its runs are reported as
# `name@transport [run]`, and the drop-in comparison is per transport.
#
# Environment: ZMQ_TEST_FILTER=substring (only test files whose path contains it),
# ZMQ_TEST_TRANSPORTS="tcp ipc" (only these transports for parameterised tests),
# ZMQ_TEST_JOBS (parallel test files, default 2), ZMQ_TEST_TIMEOUT (seconds per run, default 60;
# valgrind gets three times that), ZMQ_TEST_KEEP=1 (keep the build directory), CC (default cc).
# Ends with one line `capi: N passed, N failed` counting program runs; exits non-zero on failure.
set -euo pipefail

prefix=${1:?usage: $0 PREFIX (where libzmq-rs is installed)}
prefix=$(cd "$prefix" && pwd)
cd "$(dirname "$0")/.."
root=$PWD
tests_dir=$root/capi-tests

CC=${CC:-cc}
jobs_max=${ZMQ_TEST_JOBS:-2}
tmo=${ZMQ_TEST_TIMEOUT:-60}
filter=${ZMQ_TEST_FILTER:-}
only_transports=${ZMQ_TEST_TRANSPORTS:-}
cflags=(-Wall -Wextra -Werror -pthread -g -I"$tests_dir")
san=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

die() { echo "capi-tests: $*" >&2; echo "capi: 0 passed, 1 failed"; exit 1; }

# Our installation, through its pkg-config file.
our_libdir=$prefix/lib
[ -f "$our_libdir/pkgconfig/libzmq.pc" ] || die "no $our_libdir/pkgconfig/libzmq.pc (run make install PREFIX=$prefix)"
pc() { PKG_CONFIG_PATH="$our_libdir/pkgconfig" pkg-config "$@" libzmq; }
[ "$(pc --variable=prefix)" = "$prefix" ] ||
    die "pkg-config resolves libzmq to $(pc --variable=prefix), not $prefix"
read -r -a our_cflags <<<"$(pc --cflags)"
read -r -a our_libs <<<"$(pc --libs)"

# Debian's libzmq: header and library taken explicitly from their Debian locations, so that a
# libzmq-rs installed in /usr/local cannot stand in for them.
deb_libdir=/usr/lib/$($CC -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
[ -f /usr/include/zmq.h ] || die "Debian's zmq.h missing (apt-get install libzmq3-dev)"
[ -e "$deb_libdir/libzmq.so.5" ] || die "Debian's libzmq.so.5 missing in $deb_libdir (apt-get install libzmq5)"
command -v valgrind >/dev/null || die "valgrind missing (apt-get install valgrind)"

work=$(mktemp -d "${TMPDIR:-/tmp}/capi-tests.XXXXXX")
if [ "${ZMQ_TEST_KEEP:-}" = 1 ]; then
    echo "capi-tests: keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/deb-include"
ln -s /usr/include/zmq.h /usr/include/zmq_utils.h "$work/deb-include/"

# True unless the binary, run with LD_LIBRARY_PATH=$1, would load a libzmq.so.5 from a
# directory other than $1 (a binary that does not link libzmq at all passes).
loads_from() {
    local d
    d=$(LD_LIBRARY_PATH=$1 ldd "$2" 2>/dev/null | awk '$1=="libzmq.so.5"{print $3}')
    [ -z "$d" ] || [ "$(dirname "$(readlink -f "$d")")" = "$(readlink -f "$1")" ]
}

# The transports a test file runs over: its `// transports: ...` line (none: the file is not
# transport-parameterised and runs once, without ZMQ_TEST_TRANSPORT), narrowed by
# ZMQ_TEST_TRANSPORTS when that is set.
file_transports() {
    local declared t out=()
    declared=$(sed -n 's|^// transports: *||p' "$1" | head -n 1)
    [ -n "$declared" ] || { echo none; return; }
    for t in $declared; do
        if [ -z "$only_transports" ] || [[ " $only_transports " == *" $t "* ]]; then out+=("$t"); fi
    done
    echo "${out[*]}"
}

# Runs one test file over each of its transports; writes `PASS|FAIL <test> [<run>] <why>` lines
# plus details to stdout. A parameterised test's runs are named `<test>@<transport>`.
run_file() {
    set +e
    local src=$1 kind=$2 name dir label t
    name=${src#"$tests_dir"/}
    name=${name%.c}
    dir=$work/${name//\//_}
    mkdir -p "$dir"
    local ours_ok=0 deb_ok=0 asan_ok=0

    report() { # status run why [detail-file...]
        local st=$1 run=$2 why=$3
        shift 3
        if [ "$st" = PASS ]; then
            echo "PASS $label [$run]"
        else
            echo "FAIL $label [$run] $why"
            local f
            for f in "$@"; do
                [ -s "$f" ] || continue
                echo "  --- ${f##*/} (last 40 lines)"
                tail -n 40 "$f" | sed 's/^/  | /'
            done
        fi
    }

    # Runs a binary: run-label out-prefix timeout env... -- cmd...; checks exit code and summary.
    run_bin() {
        local run=$1 out=$2 t=$3
        shift 3
        local envs=()
        while [ "$1" != -- ]; do envs+=("$1"); shift; done
        shift
        env "${envs[@]}" timeout -k 5 "$t" "$@" >"$out.out" 2>"$out.err" </dev/null
        local rc=$?
        if [ $rc = 124 ] || [ $rc = 137 ]; then
            report FAIL "$run" "timed out after ${t}s" "$out.out" "$out.err"; return 1
        elif [ $rc != 0 ]; then
            report FAIL "$run" "exit code $rc" "$out.out" "$out.err"; return 1
        elif ! tail -n 1 "$out.out" | grep -Eq '^[^ ]+: [0-9]+ passed, 0 failed$'; then
            report FAIL "$run" "no closing 'name: N passed, 0 failed' line" "$out.out" "$out.err"; return 1
        fi
        return 0
    }

    # The builds: against ours, against Debian's header and library, and with sanitizers.
    $CC "${cflags[@]}" "${our_cflags[@]}" "$src" "${our_libs[@]}" -o "$dir/ours" >"$dir/build-ours.log" 2>&1 &&
        ours_ok=1
    if [ "$kind" = common ]; then
        $CC "${cflags[@]}" -I"$work/deb-include" "$src" -L"$deb_libdir" -lzmq -o "$dir/deb" >"$dir/build-deb.log" 2>&1 &&
            deb_ok=1
    fi
    $CC "${cflags[@]}" "${san[@]}" "${our_cflags[@]}" "$src" "${our_libs[@]}" -o "$dir/asan" >"$dir/build-asan.log" 2>&1 &&
        asan_ok=1

    for t in $(file_transports "$src"); do
        local tenv=() o=$dir/$t
        label=$name
        if [ "$t" != none ]; then
            label=$name@$t
            tenv=(ZMQ_TEST_TRANSPORT="$t")
        fi

        # (a) against ours
        if [ $ours_ok = 1 ]; then
            if ! loads_from "$our_libdir" "$dir/ours"; then
                report FAIL ours "does not load $our_libdir/libzmq.so.5"
            elif run_bin ours "$o-ours" "$tmo" "${tenv[@]}" LD_LIBRARY_PATH="$our_libdir" -- "$dir/ours"; then
                report PASS ours ""
            fi
        else
            report FAIL ours "build failed" "$dir/build-ours.log"
        fi

        # (b) built against Debian's header and library; run on Debian's, then on ours (drop-in)
        if [ "$kind" = common ]; then
            if [ $deb_ok = 0 ]; then
                report FAIL debian "build against Debian's zmq.h failed" "$dir/build-deb.log"
                report FAIL drop-in "build against Debian's zmq.h failed"
            else
                local deb_ran=0
                if ! loads_from "$deb_libdir" "$dir/deb"; then
                    report FAIL debian "does not load $deb_libdir/libzmq.so.5"
                elif run_bin debian "$o-deb-on-deb" "$tmo" "${tenv[@]}" LD_LIBRARY_PATH="$deb_libdir" -- "$dir/deb"; then
                    report PASS debian ""
                    deb_ran=1
                fi
                if ! loads_from "$our_libdir" "$dir/deb"; then
                    report FAIL drop-in "does not load $our_libdir/libzmq.so.5"
                elif run_bin drop-in "$o-deb-on-ours" "$tmo" "${tenv[@]}" LD_LIBRARY_PATH="$our_libdir" -- "$dir/deb"; then
                    if [ $deb_ran = 0 ]; then
                        report FAIL drop-in "passed on ours, but the Debian run it is compared with failed"
                    elif ! diff -u --label debian --label ours "$o-deb-on-deb.out" "$o-deb-on-ours.out" >"$o-drop-in.diff"; then
                        report FAIL drop-in "stdout differs from the Debian run" "$o-drop-in.diff"
                    else
                        report PASS drop-in ""
                    fi
                fi
            fi
        fi

        # (c) valgrind on the `ours` binary
        if [ $ours_ok = 1 ]; then
            if run_bin valgrind "$o-valgrind" $((tmo * 3)) "${tenv[@]}" LD_LIBRARY_PATH="$our_libdir" -- \
                valgrind -q --error-exitcode=99 --leak-check=full \
                --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
                "$dir/ours"; then
                report PASS valgrind ""
            fi
        else
            report FAIL valgrind "build failed"
        fi

        # (d) AddressSanitizer and UndefinedBehaviorSanitizer against ours
        if [ $asan_ok = 1 ]; then
            if run_bin asan "$o-asan" "$tmo" "${tenv[@]}" LD_LIBRARY_PATH="$our_libdir" \
                ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 -- "$dir/asan"; then
                report PASS asan ""
            fi
        else
            report FAIL asan "build failed" "$dir/build-asan.log"
        fi
    done
}

# The test files, common first, then ours/.
files=()
kinds=()
shopt -s nullglob
for f in "$tests_dir"/*.c; do files+=("$f"); kinds+=(common); done
for f in "$tests_dir"/ours/*.c; do files+=("$f"); kinds+=(ours); done
shopt -u nullglob

selected=()
for i in "${!files[@]}"; do
    rel=${files[$i]#"$tests_dir"/}
    if [ -z "$filter" ] || [[ $rel == *"$filter"* ]]; then selected+=("$i"); fi
done
if [ ${#selected[@]} = 0 ]; then
    echo "capi-tests: no test file matches ZMQ_TEST_FILTER='$filter'"
    echo "capi: 0 passed, 0 failed"
    exit 0
fi

# Run the files, ZMQ_TEST_JOBS at a time; each writes its own report.
for i in "${selected[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
    run_file "${files[$i]}" "${kinds[$i]}" >"$work/report.$i" 2>&1 &
done
wait || true

passed=0
failed=0
for i in "${selected[@]}"; do
    while IFS= read -r line; do
        case $line in
            PASS\ *) passed=$((passed + 1)); echo "ok   ${line#PASS }" ;;
            FAIL\ *) failed=$((failed + 1)); echo "FAIL ${line#FAIL }" ;;
            *) echo "$line" ;;
        esac
    done <"$work/report.$i"
done
echo "capi: $passed passed, $failed failed"
[ "$failed" = 0 ]
