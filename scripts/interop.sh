#!/usr/bin/env bash
# Wire interop: libzmq-rs against Debian's libzmq (the reference) over tcp and ipc.
#
#   scripts/interop.sh PREFIX        PREFIX is where `make install PREFIX=...` put libzmq-rs
#
# interop/peer.c is compiled once against Debian's zmq.h and -lzmq; each scenario (see
# `peer list`) has two sides, a and b, run as two processes of that one binary with
# LD_LIBRARY_PATH pointing at our library or at Debian's. Each scenario runs over tcp
# (tcp://127.0.0.1:*, the binder publishes the port it got) and ipc (a fresh path per run), as:
#   a=ours binds,   b=debian connects        a=debian binds, b=ours connects
#   a=ours connects, b=debian binds          a=debian connects, b=ours binds
#   a=ours binds,   b=ours connects          (sanity: ours with itself)
# The restart scenario kills and restarts the binding side a, so it runs only with a binding.
# A run passes when both processes exit 0 within the timeout.
#
# Environment: INTEROP_FILTER=substring (only runs whose label contains it), INTEROP_JOBS
# (parallel runs, default 4), INTEROP_TIMEOUT (seconds per process, default 30),
# INTEROP_BASELINE=1 (also run Debian with Debian: checks the scenarios themselves),
# INTEROP_KEEP=1 (keep the work directory), CC (default cc).
# Ends with one line `interop: N passed, N failed`; exits non-zero on failure.
set -euo pipefail

prefix=${1:?usage: $0 PREFIX (where libzmq-rs is installed)}
prefix=$(cd "$prefix" && pwd)
cd "$(dirname "$0")/.."
root=$PWD

CC=${CC:-cc}
jobs_max=${INTEROP_JOBS:-4}
tmo=${INTEROP_TIMEOUT:-30}
filter=${INTEROP_FILTER:-}
baseline=${INTEROP_BASELINE:-0}

die() { echo "interop: $*" >&2; echo "interop: 0 passed, 1 failed"; exit 1; }

our_libdir=$prefix/lib
deb_libdir=/usr/lib/$($CC -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
[ -e "$our_libdir/libzmq.so.5" ] || die "no $our_libdir/libzmq.so.5 (run make install PREFIX=$prefix)"
[ -f /usr/include/zmq.h ] || die "Debian's zmq.h missing (apt-get install libzmq3-dev)"
[ -e "$deb_libdir/libzmq.so.5" ] || die "Debian's libzmq.so.5 missing in $deb_libdir (apt-get install libzmq5)"

# Short: ipc paths live under it and sun_path holds 107 bytes.
work=$(mktemp -d /tmp/interop.XXXXXX)
if [ "${INTEROP_KEEP:-}" = 1 ]; then
    echo "interop: keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/deb-include"
ln -s /usr/include/zmq.h /usr/include/zmq_utils.h "$work/deb-include/"
peer=$work/peer
$CC -Wall -Wextra -Werror -O1 -g -I"$work/deb-include" interop/peer.c \
    -L"$deb_libdir" -lzmq -o "$peer" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; die "building interop/peer.c failed"; }

libdir() { if [ "$1" = ours ]; then echo "$our_libdir"; else echo "$deb_libdir"; fi; }

# The binary must load libzmq.so.5 from exactly the directory we point it at.
for lib in ours debian; do
    d=$(LD_LIBRARY_PATH=$(libdir $lib) ldd "$peer" | awk '$1=="libzmq.so.5"{print $3}')
    [ "$(dirname "$(readlink -f "$d")")" = "$(readlink -f "$(libdir $lib)")" ] ||
        die "peer loads $d with LD_LIBRARY_PATH=$(libdir $lib)"
done

# peer_start LIB SCENARIO SIDE MODE ENDPOINT DIR: starts one side in the background, under
# timeout, output in DIR/SIDE.*; $! is then timeout's pid (a TERM to it reaches the peer).
peer_start() {
    local lib=$1 sc=$2 side=$3 mode=$4 ep=$5 dir=$6 lib_dir
    lib_dir=$(libdir "$lib")
    (LD_LIBRARY_PATH=$lib_dir exec timeout -k 2 "$tmo" "$peer" "$sc" "$side" "$mode" "$ep" "$dir" \
        >"$dir/$side.out" 2>"$dir/$side.err" </dev/null) &
}

# await_file FILE PID: waits (10 s at most) for FILE while PID lives.
await_file() {
    local i
    for ((i = 0; i < 2000; i++)); do
        [ -e "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || { [ -e "$1" ]; return; }
        sleep 0.005
    done
    return 1
}

# run_case LABEL SCENARIO TRANSPORT ALIB BLIB BINDER: writes `PASS|FAIL label [why]` and details.
run_case() {
    set +e
    local label=$1 sc=$2 tr=$3 alib=$4 blib=$5 binder=$6
    local dir=$work/run.$7 t0=$SECONDS
    mkdir -p "$dir"
    local ep
    case $tr in
        tcp) ep='tcp://127.0.0.1:*' ;;
        ipc) ep="ipc://$dir/s.ipc" ;;
    esac
    local why="" files=()
    if [ "$sc" = restart ]; then
        restart_case "$alib" "$blib" "$ep" "$dir"
    else
        local connector blib_c bpid cpid brc crc bound lib_b
        if [ "$binder" = a ]; then connector=b; lib_b=$alib; blib_c=$blib; else connector=a; lib_b=$blib; blib_c=$alib; fi
        peer_start "$lib_b" "$sc" "$binder" bind "$ep" "$dir"
        bpid=$!
        if await_file "$dir/endpoint" "$bpid"; then
            bound=$(cat "$dir/endpoint")
            peer_start "$blib_c" "$sc" "$connector" connect "$bound" "$dir"
            cpid=$!
            wait "$cpid"; crc=$?
        else
            crc=-1
            why="the binding side never published its endpoint"
        fi
        wait "$bpid"; brc=$?
        if [ -z "$why" ] && { [ $brc != 0 ] || [ $crc != 0 ]; }; then
            why="exit codes: $binder (bind) $brc, $connector (connect) $crc"
        fi
        files=("$dir/a.err" "$dir/b.err")
    fi
    if [ -z "$why" ]; then
        echo "PASS $label ($((SECONDS - t0))s)"
    else
        echo "FAIL $label: $why"
        local f
        for f in "${files[@]}"; do
            [ -s "$f" ] && sed "s#^#  | ${f##*/}: #" "$f" | tail -n 20
        done
    fi
    return 0
}

# The restart scenario: a1 binds, gets a message, is killed (SIGKILL); a2 binds the same
# endpoint once b has queued messages for it. Sets `why` and `files` in run_case.
restart_case() {
    local alib=$1 blib=$2 ep=$3 dir=$4 a1 a2 b rc1 rc2 rcb bound
    files=("$dir/a1.err" "$dir/a2.err" "$dir/b.err")
    peer_start "$alib" restart a1 bind "$ep" "$dir"
    a1=$!
    if ! await_file "$dir/endpoint" "$a1"; then
        kill "$a1" 2>/dev/null; wait "$a1"
        why="a1 never published its endpoint"; return
    fi
    bound=$(cat "$dir/endpoint")
    peer_start "$blib" restart b connect "$bound" "$dir"
    b=$!
    if ! await_file "$dir/got1" "$a1" || [ ! -s "$dir/a1.pid" ]; then
        kill "$a1" "$b" 2>/dev/null; wait "$a1"; wait "$b"
        why="a1 did not get the first message"; return
    fi
    kill -KILL "$(cat "$dir/a1.pid")" 2>/dev/null
    { wait "$a1"; } 2>/dev/null; rc1=$?
    [ $rc1 = 137 ] || { wait "$b"; why="a1 exited with $rc1, not by SIGKILL"; return; }
    touch "$dir/killed"
    if ! await_file "$dir/queued" "$b"; then
        wait "$b"; rcb=$?
        why="b did not queue messages after the disconnect (exit $rcb)"; return
    fi
    peer_start "$alib" restart a2 bind "$bound" "$dir"
    a2=$!
    wait "$b"; rcb=$?
    wait "$a2"; rc2=$?
    if [ $rcb != 0 ] || [ $rc2 != 0 ]; then
        why="exit codes: b (connect) $rcb, a2 (bind) $rc2"
    fi
}

# The runs, in order.
labels=() args=()
add() { # scenario transport alib blib binder
    local l
    if [ "$5" = a ]; then l="$1/$2 a=$3(bind) b=$4(connect)"; else l="$1/$2 a=$3(connect) b=$4(bind)"; fi
    if [ -z "$filter" ] || [[ $l == *"$filter"* ]]; then
        labels+=("$l")
        args+=("$1 $2 $3 $4 $5")
    fi
}
for sc in $("$peer" list); do
    for tr in tcp ipc; do
        add "$sc" "$tr" ours debian a
        add "$sc" "$tr" debian ours a
        if [ "$sc" != restart ]; then
            add "$sc" "$tr" ours debian b
            add "$sc" "$tr" debian ours b
        fi
        add "$sc" "$tr" ours ours a
        [ "$baseline" = 1 ] && add "$sc" "$tr" debian debian a
    done
done
if [ ${#labels[@]} = 0 ]; then
    echo "interop: no run matches INTEROP_FILTER='$filter'"
    echo "interop: 0 passed, 0 failed"
    exit 0
fi

start=$SECONDS
for i in "${!labels[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
    # shellcheck disable=SC2086
    run_case "${labels[$i]}" ${args[$i]} "$i" >"$work/report.$i" 2>&1 &
done
wait || true

passed=0
failed=0
for i in "${!labels[@]}"; do
    if ! grep -Eq '^(PASS|FAIL) ' "$work/report.$i"; then
        echo "FAIL ${labels[$i]}: the run reported nothing" >>"$work/report.$i"
    fi
    while IFS= read -r line; do
        case $line in
            PASS\ *) passed=$((passed + 1)); echo "ok   ${line#PASS }" ;;
            FAIL\ *) failed=$((failed + 1)); echo "FAIL ${line#FAIL }" ;;
            *) echo "$line" ;;
        esac
    done <"$work/report.$i"
done
echo "interop: ${#labels[@]} runs in $((SECONDS - start))s"
echo "interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
