#!/usr/bin/env python3
"""Compares pytest JUnit XML reports of one test suite run on two libzmqs.

    junit_compare.py NAME OURS.xml [--baseline BASE.xml] [--min-passed N]

Prints one summary line per run, then every test whose outcome differs between the baseline
run and ours. Exits 1 when ours has a failed or errored test, when a test that passed on the
baseline did not pass on ours, or when ours passed fewer than --min-passed tests.

Standard library only: runs under any Python 3.
"""

import argparse
import sys
import xml.etree.ElementTree as ET

# Skip messages pyzmq's tests give when libzmq has no CURVE (pyzmq 24 and 27).


def outcomes(path):
    """{test id: (outcome, message)} with outcome passed, failed, error or skipped."""
    result = {}
    for tc in ET.parse(path).iter("testcase"):
        cls = tc.get("classname", "")
        name = tc.get("name", "")
        tid = f"{cls}::{name}" if cls else name
        outcome, message = "passed", ""
        for child in tc:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                message = (child.get("message") or "").strip().splitlines()
                message = message[0] if message else ""
                break
        # A test both failing and erroring in teardown appears twice: keep the worse.
        prev = result.get(tid)
        if prev is None or prev[0] in ("passed", "skipped"):
            result[tid] = (outcome, message)
    return result


def summary(res):
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for outcome, _ in res.values():
        counts[outcome] += 1
    text = f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    if counts["error"]:
        text += f", {counts['error']} errors"
    return counts, text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("ours")
    ap.add_argument("--baseline")
    ap.add_argument("--baseline-label", default="baseline")
    ap.add_argument("--ours-label", default="libzmq-rs")
    ap.add_argument("--min-passed", type=int, default=0)
    args = ap.parse_args()

    ours = outcomes(args.ours)
    ours_counts, ours_text = summary(ours)
    width = max(len(args.baseline_label), len(args.ours_label))
    bad = []
    if args.baseline:
        base = outcomes(args.baseline)
        print(f"{args.name} on {args.baseline_label:<{width}}  {summary(base)[1]}")
    print(f"{args.name} on {args.ours_label:<{width}}  {ours_text}")

    for tid, (outcome, message) in sorted(ours.items()):
        if outcome in ("failed", "error"):
            bad.append(f"{tid}: {outcome} on ours: {message}")

    if args.baseline:
        diffs = []
        for tid in sorted(set(base) | set(ours)):
            b = base.get(tid, ("absent", ""))
            o = ours.get(tid, ("absent", ""))
            if b[0] == o[0]:
                continue
            why = f" ({o[1]})" if o[1] and o[0] != "passed" else ""
            line = f"{tid}: {b[0]} -> {o[0]}{why}"
            diffs.append(line)
            if b[0] == "passed" and o[0] != "passed" and o[0] not in ("failed", "error"):
                bad.append(f"{tid}: passed on {args.baseline_label}, {o[0]} on ours{why}")
        print(f"{len(diffs)} tests differ ({args.baseline_label} -> ours)" + (":" if diffs else ""))
        for d in diffs:
            print(f"  {d}")
    if ours_counts["passed"] < args.min_passed:
        bad.append(f"only {ours_counts['passed']} passed on ours, expected at least {args.min_passed}")
    if bad:
        print(f"{len(bad)} problems:")
        for b in bad:
            print(f"  {b}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
