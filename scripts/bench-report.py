#!/usr/bin/env python3
"""Summarise a raw result file of scripts/bench.sh into BENCHMARKS.md (and print the table).

    bench-report.py RAWFILE OUTFILE

The raw file has '# key=value' header lines, one 'P ...' line per process of a run (the keys
of the tool's RESULT line plus round, case, size, side, role, count) and one 'S ...' line per
run (status=ok|fail). Every number in the report is a median over the rounds; a ratio is the
median of the per-round ratios ours/libzmq, each taken from two runs made back to back.
"""
import statistics
import sys
from collections import OrderedDict, defaultdict

SIDES = ("ours", "libzmq")


def kv(line):
    out = {}
    for tok in line.split()[1:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def med(xs):
    return statistics.median(xs) if xs else None


def load(path):
    head, procs, status = OrderedDict(), defaultdict(list), {}
    order = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("# ") and "=" in line:
            k, v = line[2:].split("=", 1)
            head[k] = v
        elif line.startswith("P "):
            d = kv(line)
            procs[(d["round"], d["case"], int(d["size"]), d["side"])].append(d)
        elif line.startswith("S "):
            d = kv(line)
            key = (d["case"], int(d["size"]))
            if key not in order:
                order.append(key)
            status[(d["round"], d["case"], int(d["size"]), d["side"])] = d
    return head, procs, status, order


def fl(d, k):
    return float(d[k]) if k in d else None


def measure(case, procs):
    """One run's numbers: kind, value (msgs/s or one-way us p50), extras."""
    by_role = {p["role"]: p for p in procs}
    count = int(procs[0]["count"])
    cpu = sum(fl(p, "cpu_s") or 0.0 for p in procs)
    rss_all = max(int(p.get("rss_kb", 0)) for p in procs)
    if case.endswith("_lat"):
        m = by_role.get("main") or by_role.get("ping")
        return {
            "kind": "lat",
            "value": fl(m, "p50_us"),
            "mean": fl(m, "oneway_us"),
            "p99": fl(m, "p99_us"),
            "rss": rss_all,
            "cpu_per": cpu / count * 1e6,
        }
    if case == "tcp_fanout_4sub":
        subs = [p for r, p in by_role.items() if r.startswith("sub")]
        t0 = min(int(p["t0_ns"]) for p in subs)
        t1 = max(int(p["t1_ns"]) for p in subs)
        return {
            "kind": "thr",
            "value": (count - 1) / ((t1 - t0) / 1e9),
            "rss": max(int(p["rss_kb"]) for p in subs),
            "cpu_per": cpu / count * 1e6,
        }
    if case == "tcp_router_4dealer":
        dealers = [p for r, p in by_role.items() if r.startswith("dealer")]
        t0 = min(int(p["t0_ns"]) for p in dealers)
        t1 = max(int(p["t1_ns"]) for p in dealers)
        total = sum(int(p["msgs"]) for p in dealers)
        return {
            "kind": "thr",
            "value": total / ((t1 - t0) / 1e9),
            "rss": int(by_role["router"]["rss_kb"]),
            "cpu_per": cpu / total * 1e6,
        }
    m = by_role.get("main") or by_role["recv"]
    return {
        "kind": "thr",
        "value": fl(m, "msgs_per_s"),
        "mbps": fl(m, "MB_per_s"),
        "rss": int(m["rss_kb"]),
        "cpu_per": cpu / count * 1e6,
    }


# Issue 9's targets, and issue 7's for CURVE: (label, case, sizes, "ge"|"le", bound) on the
# ratio ours/libzmq.
TARGETS = [
    ("throughput >= 1.5x at 64 B", "tcp_thr", [64], "ge", 1.5),
    ("throughput >= 1.5x at 64 B", "ipc_thr", [64], "ge", 1.5),
    ("throughput >= 1.5x at 64 B and at every size over inproc", "inproc_thr",
     [64, 1024, 65536, 1048576], "ge", 1.5),
    ("throughput >= 1.8x at 1 KiB", "tcp_thr", [1024], "ge", 1.8),
    ("throughput >= 1.8x at 1 KiB", "ipc_thr", [1024], "ge", 1.8),
    ("throughput >= 2x at 64 KiB and 1 MiB over ipc", "ipc_thr", [65536, 1048576], "ge", 2.0),
    ("throughput >= 1.2x at 64 KiB and 1 MiB over tcp", "tcp_thr", [65536, 1048576], "ge", 1.2),
    ("one-way latency <= 0.8x", "tcp_lat", [64, 1024], "le", 0.8),
    ("one-way latency <= 0.8x", "ipc_lat", [64, 1024], "le", 0.8),
    ("one-way latency <= 0.8x", "inproc_lat", [64, 1024], "le", 0.8),
    ("PUB -> 4 SUB fan-out >= 1.5x at 64 B", "tcp_fanout_4sub", [64], "ge", 1.5),
    ("PUB -> 4 SUB fan-out >= 2.6x at 1 KiB", "tcp_fanout_4sub", [1024], "ge", 2.6),
    ("4 DEALER -> ROUTER pipelined >= 1.5x", "tcp_router_4dealer", [64], "ge", 1.5),
    ("CURVE throughput >= 1x at 64 B and 64 KiB (issue 7)", "tcp_curve_thr", [64, 65536],
     "ge", 1.0),
]


def size_str(s):
    if s >= 1048576 and s % 1048576 == 0:
        return f"{s // 1048576} MiB"
    if s >= 1024 and s % 1024 == 0:
        return f"{s // 1024} KiB"
    return f"{s} B"


def rate_str(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M/s"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k/s"
    return f"{v:.0f} /s"


# Everything from this line on in an existing report is hand-written (measurements made outside
# `make bench`, such as the swap-to-disk figures) and is carried over into the new report.
KEEP_MARKER = "<!-- kept by make bench: hand-written sections below -->"


def kept_tail(path):
    try:
        old = open(path, encoding="utf-8").read()
    except OSError:
        return ""
    at = old.find(KEEP_MARKER)
    return "" if at < 0 else "\n" + old[at:]


def main():
    raw, out = sys.argv[1], sys.argv[2]
    head, procs, status, order = load(raw)

    rows = OrderedDict()
    failures = []
    for case, size in order:
        runs = {s: {} for s in SIDES}
        rounds = sorted({k[0] for k in status if k[1] == case and k[2] == size}, key=int)
        for r in rounds:
            for side in SIDES:
                st = status.get((r, case, size, side))
                if st is None:
                    continue
                if st.get("status") != "ok":
                    failures.append((case, size, side, r, st.get("rc", "?"),
                                     st.get("why", "").replace("_", " ")))
                    continue
                try:
                    runs[side][r] = measure(case, procs[(r, case, size, side)])
                except (KeyError, ValueError, ZeroDivisionError) as e:
                    failures.append((case, size, side, r, "-", f"unparsable result ({e})"))
        rows[(case, size)] = runs

    def summary(case, size):
        runs = rows[(case, size)]
        o, z = runs["ours"], runs["libzmq"]
        ratios = [o[r]["value"] / z[r]["value"] for r in o if r in z and z[r]["value"]]
        res = {"ratio": med(ratios), "ratios": ratios, "n": len(ratios)}
        for side, rr in (("ours", o), ("libzmq", z)):
            vals = list(rr.values())
            res[side] = {
                k: med([v[k] for v in vals if v.get(k) is not None])
                for k in ("value", "mean", "p99", "rss", "cpu_per")
            }
            res[side]["runs"] = len(vals)
        res["kind"] = next((v["kind"] for v in list(o.values()) + list(z.values())), "thr")
        mean_r = [o[r]["mean"] / z[r]["mean"] for r in o if r in z and o[r].get("mean")]
        res["mean_ratio"] = med(mean_r)
        rss_r = [o[r]["rss"] / z[r]["rss"] for r in o if r in z and z[r]["rss"]]
        cpu_r = [o[r]["cpu_per"] / z[r]["cpu_per"] for r in o if r in z and z[r]["cpu_per"]]
        res["rss_ratio"], res["cpu_ratio"] = med(rss_r), med(cpu_r)
        return res

    sums = {k: summary(*k) for k in rows}

    # ---- the table --------------------------------------------------------------------------
    lines = []
    lines.append("| case | size | ours | libzmq | ours/libzmq | per-round ratios | "
                 "receiver RSS MiB ours / libzmq | CPU µs per msg ours / libzmq |")
    lines.append("|---|---:|---:|---:|---:|---|---:|---:|")
    for (case, size), s in sums.items():
        o, z = s["ours"], s["libzmq"]

        def val(x):
            if x["value"] is None:
                return "FAIL"
            if s["kind"] == "lat":
                return f"{x['value']:.2f} µs (mean {x['mean']:.2f}, p99 {x['p99']:.1f})"
            return rate_str(x["value"])

        ratio = "-" if s["ratio"] is None else f"**{s['ratio']:.2f}**"
        if s["kind"] == "lat" and s["mean_ratio"] is not None and s["ratio"] is not None:
            ratio += f" (mean {s['mean_ratio']:.2f})"
        spread = " ".join(f"{x:.2f}" for x in s["ratios"]) or "-"
        rss = "-" if o["rss"] is None or z["rss"] is None else \
            f"{o['rss'] / 1024:.1f} / {z['rss'] / 1024:.1f}"
        cpu = "-" if o["cpu_per"] is None or z["cpu_per"] is None else \
            f"{o['cpu_per']:.3g} / {z['cpu_per']:.3g}"
        note = ""
        nfail = sum(1 for f in failures if f[0] == case and f[1] == size)
        if nfail:
            note = f" ({nfail} failed run{'s' if nfail > 1 else ''})"
        lines.append(f"| {case}{note} | {size_str(size)} | {val(o)} | {val(z)} | {ratio} | "
                     f"{spread} | {rss} | {cpu} |")
    table = "\n".join(lines)

    # ---- the targets ------------------------------------------------------------------------
    tl = ["| target | case | ours/libzmq | verdict |", "|---|---|---:|---|"]
    met = total = 0
    for label, case, sizes, op, bound in TARGETS:
        for size in sizes:
            if (case, size) not in sums:
                continue
            total += 1
            r = sums[(case, size)]["ratio"]
            if r is None:
                verdict = "not measured (runs failed)"
            elif (op == "ge" and r >= bound) or (op == "le" and r <= bound):
                met += 1
                verdict = "met"
            elif op == "ge":
                verdict = (f"missed: {r:.2f} < {bound:g}, short by {bound - r:.2f} "
                           f"(needs {bound / r:.2f}x the present rate)")
            else:
                verdict = (f"missed: {r:.2f} > {bound:g}, over by {r - bound:.2f} "
                           f"(needs {bound / r:.2f}x the present latency)")
            rs = "-" if r is None else f"{r:.2f}"
            tl.append(f"| {label} | {case} {size_str(size)} | {rs} | {verdict} |")
    for what, key, word in (("peak RSS of the receiver <= libzmq's", "rss_ratio", "RSS"),
                            ("CPU time per message <= libzmq's", "cpu_ratio", "CPU")):
        rs = [(k, s[key]) for k, s in sums.items() if s[key] is not None]
        if not rs:
            continue
        total += 1
        bad = [(k, r) for k, r in rs if r > 1.0]
        if not bad:
            met += 1
            tl.append(f"| {what} | all {len(rs)} cases | max {max(r for _, r in rs):.2f} | met |")
        else:
            worst = sorted(bad, key=lambda x: -x[1])
            names = ", ".join(f"{c} {size_str(sz)} {r:.2f}" for (c, sz), r in worst[:6])
            more = f" and {len(worst) - 6} more" if len(worst) > 6 else ""
            tl.append(f"| {what} | all {len(rs)} cases | worst {worst[0][1]:.2f} | "
                      f"missed in {len(bad)} of {len(rs)} cases ({word} ratio: {names}{more}) |")
    targets = "\n".join(tl)

    # ---- the document -----------------------------------------------------------------------
    quick = head.get("quick") == "1"
    cond = []
    if quick:
        cond.append("**QUICK mode** (a tenth of the messages per run)")
    cond.append(f"{head.get('rounds')} round{'s' if head.get('rounds') != '1' else ''}")
    if head.get("cases_re"):
        cond.append(f"only the cases matching `{head['cases_re']}`")
    doc = f"""# Benchmarks: libzmq-rs against libzmq

Written by `make bench` (`scripts/bench.sh`, summarised by `scripts/bench-report.py`) on
{head.get('date')}: {', '.join(cond)}.
{(chr(10) + '**Conditions:** ' + head['note'] + chr(10)) if head.get('note') else ''}
| machine | |
|---|---|
| CPUs (nproc) | {head.get('nproc')} |
| CPU model | {head.get('cpu')} |
| kernel | {head.get('kernel')} |
| load average (1, 5, 15 min) | {head.get('load_before')} before, {head.get('load_after')} after |
| run time | {head.get('seconds')} s |
| ours | {head.get('ours')} |
| libzmq | {head.get('libzmq')} |

Every case runs the same perf tool binaries (`perf/`, installed by `make install`) against
both libraries, back to back in each round (ours first in odd rounds, libzmq first in even
ones). Values are medians over the rounds; **ours/libzmq** is the median of the per-round
ratios (each from two runs made under the same machine conditions), listed round by round
next to it. Throughput is messages per second at the receiver, timed from the first message
to the last (fan-out: what every one of the 4 subscribers received; DEALER -> ROUTER:
requests served for all 4 clients, 100 in flight each). Latency is one-way, half a
REQ <-> REP round trip: the median (the ratio is of the medians; the mean and its ratio, and
the 99th percentile, in parentheses). Receiver RSS is the peak resident memory of the receiving process (the one
process for inproc and the proxy; the largest subscriber; the ROUTER; for latency the larger
of the two). CPU is user + system time of all the run's processes, the libraries' I/O
threads included, per message (per round trip for latency, per published message for
fan-out). tcp is 127.0.0.1; the `tcp_curve_thr` cases run local_thr/remote_thr with CURVE
(`PERF_CURVE=1`: the binding side is the server, fixed key pairs). The serving side keeps its
socket open until the measuring side has everything (`PERF_HOLD_S`, see `perf/perf.h`), so
closing is not part of what is timed.

## Results

{table}

## Issue 9's targets (and issue 7's for CURVE)

Ratios are ours/libzmq as above: throughput targets want at least the bound, latency targets
at most. {met} of {total} met.

{targets}
"""
    if failures:
        doc += "\n## Failed runs\n\n| case | size | library | round | rc | what it said |\n|---|---|---|---|---|---|\n"
        for case, size, side, r, rc, why in failures:
            doc += f"| {case} | {size_str(size)} | {side} | {r} | {rc} | {why[:150]} |\n"
    doc += kept_tail(out)
    with open(out, "w", encoding="utf-8") as f:
        f.write(doc)
    print(table)
    print()
    print(targets)
    if failures:
        print(f"\n{len(failures)} failed runs: see {out}")


if __name__ == "__main__":
    main()
