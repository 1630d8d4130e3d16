#!/usr/bin/env bash
# `make bench`: libzmq-rs against Debian's libzmq5, measured with the perf tools in perf/.
#
# Builds the library and the perf tools once (`make install` into target/bench/prefix),
# installs Debian's libzmq5 if it is missing, then runs every case against both libraries
# with the same binaries (LD_LIBRARY_PATH picks the library; every tool reports which file
# it loaded, and a run on the wrong library is an error). Each round runs every case on
# both libraries back to back (ours first in odd rounds, libzmq first in even ones), so a
# round's ratio ours/libzmq compares runs made under the same machine conditions; the
# report gives medians over the rounds. It writes BENCHMARKS.md (the table, the machine,
# the date, and each of issue 9's targets: met, or missed by how much) and prints the table.
#
# Environment:
#   ROUNDS=N        rounds (default 5; 1 with QUICK=1)
#   QUICK=1         a tenth of the messages, for trying it out (the report says so)
#   BENCH_CASES=RE  only the cases whose name matches the extended regex (e.g. 'tcp_thr')
#   BENCH_TIMEOUT=S time bound of each process (default 60)
#   BENCH_OUT=FILE  report file (default BENCHMARKS.md in the checkout)
#   BENCH_NOTE=TEXT a line about the conditions, copied into the report
#   CC              C compiler for the tools (default cc)
#
# Cases (tcp is 127.0.0.1, ipc a socket file under target/bench):
#   {tcp,ipc,inproc}_thr    PUSH -> PULL, 64 B, 1 KiB, 64 KiB, 1 MiB (local_thr/remote_thr,
#                           inproc_thr): messages per second at the receiver
#   {tcp,ipc,inproc}_lat    REQ <-> REP, 64 B and 1 KiB (local_lat/remote_lat, inproc_lat):
#                           one-way latency, half a round trip
#   tcp_fanout_4sub         XPUB (lossless) -> 4 SUB processes, 64 B and 1 KiB (pub_thr,
#                           sub_thr): messages per second that every subscriber received
#   tcp_router_4dealer      4 DEALER processes, 100 requests in flight each -> ROUTER echo,
#                           64 B (dealer_thr, router_thr): requests served per second
#   tcp_proxy_thr           PUSH -> zmq_proxy(PULL/PUSH) -> PULL, 64 B (proxy_thr)
#   tcp_curve_thr           PUSH -> PULL with CURVE (PERF_CURVE=1, perf/perf.h), 64 B and
#                           64 KiB (local_thr/remote_thr): issue 7's target
# For every run: the receiving side's peak RSS (getrusage in the tools) and the CPU time of
# all its processes (user + system, the libraries' I/O threads included) per message.
set -uo pipefail

cd "$(dirname "$0")/.."
root=$PWD
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then ROUNDS=${ROUNDS:-1}; else ROUNDS=${ROUNDS:-5}; fi
TMO=${BENCH_TIMEOUT:-60}
CASES_RE=${BENCH_CASES:-}
OUT=${BENCH_OUT:-$root/BENCHMARKS.md}
CC=${CC:-cc}
export CC

die() { echo "bench: $*" >&2; exit 1; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
for tool in timeout python3 "$CC" make; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done

# ---- Debian's libzmq5, the reference ------------------------------------------------------
multiarch=$($CC -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
deb_so=/usr/lib/$multiarch/libzmq.so.5
if [ ! -e "$deb_so" ]; then
    echo "bench: installing Debian's libzmq5"
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null && sudo -n true 2>/dev/null ||
            die "libzmq5 is missing and this is not root: apt-get install libzmq5"
        sudo=(sudo -n)
    fi
    export DEBIAN_FRONTEND=noninteractive
    { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq libzmq5; } \
        </dev/null >/dev/null || die "apt-get install libzmq5 failed"
    [ -e "$deb_so" ] || die "no $deb_so after installing libzmq5"
fi
deb_version=$(dpkg-query -W -f='${Version}' libzmq5 2>/dev/null || echo unknown)

# ---- our library and the tools, built once --------------------------------------------------
bench=$root/target/bench
prefix=$bench/prefix
mkdir -p "$bench"
echo "bench: building libzmq-rs and the perf tools (make install PREFIX=$prefix)"
make -C "$root" install PREFIX="$prefix" >"$bench/build.log" 2>&1 ||
    { tail -n 30 "$bench/build.log" >&2; die "build failed (log: $bench/build.log)"; }
bin=$prefix/bin
# A directory holding only Debian's libzmq.so.5, so LD_LIBRARY_PATH selects nothing else.
deb_dir=$bench/libzmq5
mkdir -p "$deb_dir"
ln -sf "$deb_so" "$deb_dir/libzmq.so.5"
declare -A LIBDIR=([ours]=$prefix/lib [libzmq]=$deb_dir)
declare -A LIBFILE=([ours]=$(readlink -f "$prefix/lib/libzmq.so.5") [libzmq]=$(readlink -f "$deb_so"))

work=$(mktemp -d "$bench/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
raw=$bench/raw-$(date -u +%Y%m%dT%H%M%SZ).txt
: >"$raw"

# Which library a tool really loaded: its RESULT line says (lib=, zmq=).
declare -A ZVER
for side in ours libzmq; do
    line=$(LD_LIBRARY_PATH=${LIBDIR[$side]} timeout 20 "$bin/inproc_lat" 0 20 | grep '^RESULT') ||
        die "inproc_lat does not run on $side"
    loaded=$(sed -n 's/.* lib=\([^ ]*\).*/\1/p' <<<"$line")
    [ "$(readlink -f "$loaded")" = "${LIBFILE[$side]}" ] ||
        die "on $side the tools loaded $loaded, not ${LIBFILE[$side]}"
    ZVER[$side]=$(sed -n 's/.* zmq=\([^ ]*\).*/\1/p' <<<"$line")
done

bc_sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# ---- one run ------------------------------------------------------------------------------
port=$((20000 + RANDOM % 30000))
EP=''
next_ep() { # transport
    port=$((port + 1))
    [ $port -lt 60000 ] || port=20000
    case $1 in
    tcp) EP=tcp://127.0.0.1:$port ;;
    ipc) EP=ipc://$work/$port.ipc ;;
    esac
}

# child_of PID: the program that `timeout` (PID) runs.
child_of() {
    local c=''
    c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || true
    [ -n "$c" ] || c=$(pgrep -P "$1" 2>/dev/null) || true
    echo "${c%% *}"
}

# release PID: end the hold of a serving tool run by `timeout` (PID) and reap it.
release() {
    local c
    c=$(child_of "$1")
    [ -n "$c" ] && kill -USR1 "$c" 2>/dev/null
    wait "$1"
}

# Start a tool in the background under timeout; its stdout/stderr go to $work/<tag>.out/.err.
# PID of the timeout process in $BG. Serving tools get PERF_HOLD_S (see perf/perf.h).
BG=''
start() { # side tag hold|no tool args...
    local side=$1 tag=$2 hold=$3 tool=$4
    shift 4
    if [ "$hold" = hold ]; then
        PERF_CURVE=$CURVE LD_LIBRARY_PATH=${LIBDIR[$side]} PERF_HOLD_S=$TMO timeout $((TMO + 10)) "$bin/$tool" "$@" \
            >"$work/$tag.out" 2>"$work/$tag.err" &
    else
        PERF_CURVE=$CURVE LD_LIBRARY_PATH=${LIBDIR[$side]} timeout "$TMO" "$bin/$tool" "$@" \
            >"$work/$tag.out" 2>"$work/$tag.err" &
    fi
    BG=$!
}

# bound PID: give a binding tool a moment; false (and reaped, status in $rc) if it has
# already died, e.g. because its address is taken, so that no peer waits for it in vain.
bound() {
    sleep 0.05
    kill -0 "$1" 2>/dev/null && return 0
    wait "$1"
    rc=$?
    [ $rc != 0 ] || rc=1
    return 1
}

# run_case side case transport size count: one measurement. Appends to $raw a line
#   P round=.. case=.. size=.. side=.. role=.. count=.. <the keys of the tool's RESULT line>
# for every process, then one line "S ... status=ok|fail" for the run.
round=0
CURVE=0
run_case() {
    local side=$1 case=$2 tr=$3 size=$4 count=$5
    local r holder='' i pids=() tries=0 t0=$EPOCHREALTIME
    rc=0
    case $case in *_curve_*) CURVE=1 ;; *) CURVE=0 ;; esac
    while :; do
        rm -f "$work"/*.out "$work"/*.err
        rc=0 pids=() holder=''
        next_ep "$tr"
        case $case in
        *_thr)
            if [ "$tr" = inproc ]; then
                start "$side" main no inproc_thr "$size" "$count"; pids=("$BG")
            elif [ "$case" = tcp_proxy_thr ]; then
                start "$side" main no proxy_thr "$size" "$count" tcp; pids=("$BG")
            else
                start "$side" recv no local_thr "$EP" "$size" "$count"
                if bound "$BG"; then
                    pids=("$BG")
                    start "$side" send hold remote_thr "$EP" "$size" "$count"; holder=$BG
                fi
            fi ;;
        *_lat)
            if [ "$tr" = inproc ]; then
                start "$side" main no inproc_lat "$size" "$count"; pids=("$BG")
            else
                start "$side" echo hold local_lat "$EP" "$size" "$count"
                if bound "$BG"; then
                    holder=$BG
                    start "$side" ping no remote_lat "$EP" "$size" "$count"; pids=("$BG")
                fi
            fi ;;
        tcp_fanout_4sub)
            start "$side" pub hold pub_thr "$EP" "$size" "$count" 4
            if bound "$BG"; then
                holder=$BG
                for i in 1 2 3 4; do
                    start "$side" "sub$i" no sub_thr "$EP" "$size" "$count"; pids+=("$BG")
                done
            fi ;;
        tcp_router_4dealer)
            start "$side" router hold router_thr "$EP" "$size" "$count" 4
            if bound "$BG"; then
                holder=$BG
                for i in 1 2 3 4; do
                    start "$side" "dealer$i" no dealer_thr "$EP" "$size" "$count" 100; pids+=("$BG")
                done
            fi ;;
        esac
        for i in "${pids[@]}"; do
            wait "$i" || { r=$?; [ $rc != 0 ] || rc=$r; }
        done
        if [ -n "$holder" ]; then
            release "$holder" || { r=$?; [ $rc != 0 ] || rc=$r; }
        fi
        # A port or socket file someone else holds: try again with the next one.
        if [ $rc != 0 ] && [ $tries -lt 3 ] && grep -qs 'Address already in use' "$work"/*.err; then
            tries=$((tries + 1))
            continue
        fi
        break
    done
    rm -f "$work"/*.ipc
    local f tag why
    for f in "$work"/*.out; do
        tag=$(basename "$f" .out)
        r=$(grep -m1 '^RESULT ' "$f" | sed 's/^RESULT //')
        echo "P round=$round case=$case size=$size side=$side role=$tag count=$count $r" >>"$raw"
    done
    if [ $rc = 0 ]; then
        echo "S round=$round case=$case size=$size side=$side status=ok" >>"$raw"
        printf ' %s %.1fs' "$side" "$(bc_sub "$EPOCHREALTIME" "$t0")" >&2
    else
        why=$(cat "$work"/*.err 2>/dev/null | tr -s ' \n' '  ' | cut -c1-160)
        [ $rc = 124 ] && why="timeout after ${TMO}s; $why"
        echo "S round=$round case=$case size=$size side=$side status=fail rc=$rc why=${why// /_}" >>"$raw"
        printf ' %s:FAIL(rc=%s)' "$side" "$rc" >&2
    fi
}

# ---- the cases: "case transport size count" (count: messages, round trips or requests) -----
Q=1
[ "$QUICK" = 1 ] && Q=10
n() { local v=$(($1 / Q)); [ $v -ge 20 ] || v=20; echo $v; }
CASES=()
for tr in tcp ipc; do
    CASES+=("${tr}_thr $tr 64 $(n 9000000)" "${tr}_thr $tr 1024 $(n 3000000)"
            "${tr}_thr $tr 65536 $(n 90000)" "${tr}_thr $tr 1048576 $(n 7500)")
done
CASES+=("inproc_thr inproc 64 $(n 15000000)" "inproc_thr inproc 1024 $(n 7500000)"
        "inproc_thr inproc 65536 $(n 3000000)" "inproc_thr inproc 1048576 $(n 1500000)")
for tr in tcp ipc; do
    CASES+=("${tr}_lat $tr 64 $(n 60000)" "${tr}_lat $tr 1024 $(n 60000)")
done
CASES+=("inproc_lat inproc 64 $(n 300000)" "inproc_lat inproc 1024 $(n 300000)")
CASES+=("tcp_fanout_4sub tcp 64 $(n 3000000)" "tcp_fanout_4sub tcp 1024 $(n 900000)")
CASES+=("tcp_router_4dealer tcp 64 $(n 600000)")
CASES+=("tcp_proxy_thr tcp 64 $(n 4500000)")
CASES+=("tcp_curve_thr tcp 64 $(n 3000000)" "tcp_curve_thr tcp 65536 $(n 40000)")

selected=()
for c in "${CASES[@]}"; do
    read -r name _ size _ <<<"$c"
    if [ -z "$CASES_RE" ] || grep -Eq -- "$CASES_RE" <<<"${name}_$size"; then selected+=("$c"); fi
done
[ ${#selected[@]} -gt 0 ] || die "no case matches BENCH_CASES=$CASES_RE"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
src_commit=$(git -C "$root" log -1 --format=%h -- src Cargo.toml Cargo.lock build.rs 2>/dev/null || true)
[ -z "$src_commit" ] || [ "$src_commit" = "$commit" ] || commit="$commit (src/ last changed in $src_commit)"
if [ -n "$(git -C "$root" status --porcelain -- src Cargo.toml Cargo.lock build.rs 2>/dev/null)" ]; then
    commit="$commit with uncommitted changes in src/"
fi
{
    echo "# date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "# rounds=$ROUNDS"
    echo "# quick=$QUICK"
    echo "# timeout=$TMO"
    echo "# nproc=$(nproc)"
    echo "# cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    echo "# kernel=$(uname -sr)"
    echo "# ours=libzmq-rs $commit, zmq_version ${ZVER[ours]}, ${LIBFILE[ours]}"
    echo "# libzmq=Debian libzmq5 $deb_version, zmq_version ${ZVER[libzmq]}, ${LIBFILE[libzmq]}"
    echo "# load_before=$load_before"
    echo "# cases_re=$CASES_RE"
    echo "# note=${BENCH_NOTE:-}"
} >>"$raw"

echo "bench: ${#selected[@]} cases x 2 libraries x $ROUNDS rounds${CASES_RE:+ (BENCH_CASES=$CASES_RE)}$([ "$QUICK" = 1 ] && echo ', QUICK')"
echo "bench: ours = ${LIBFILE[ours]} (${ZVER[ours]}); libzmq = ${LIBFILE[libzmq]} (${ZVER[libzmq]})"
t_start=$SECONDS
for ((round = 1; round <= ROUNDS; round++)); do
    if [ $((round % 2)) = 1 ]; then order=(ours libzmq); else order=(libzmq ours); fi
    for c in "${selected[@]}"; do
        read -r name tr size count <<<"$c"
        printf 'round %d/%d %-20s %8s B:' "$round" "$ROUNDS" "$name" "$size" >&2
        for side in "${order[@]}"; do
            run_case "$side" "$name" "$tr" "$size" "$count"
        done
        echo >&2
    done
done
{
    echo "# load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# seconds=$((SECONDS - t_start))"
} >>"$raw"

python3 "$root/scripts/bench-report.py" "$raw" "$OUT" || die "report failed (raw results: $raw)"
echo "bench: raw results in $raw; report in $OUT"
