"""The subscriber process of test_durable.py (run as a script, our libzmq preloaded).

    durable_sub.py ENDPOINT SYNC_ENDPOINT IDENTITY MODE

Subscribes to everything with the given identity. The first WELCOME message makes it send
"sync" to SYNC_ENDPOINT (PUSH); WELCOMEs are never printed.
  print  prints every other message, one per line, until END
  count  checks 1 KiB messages numbered 0, 1, ... until END, then prints "COUNT n OK|BAD"
  idle   prints what it receives until END or 3 s of silence, then "IDLE"
"""

import signal
import struct
import sys

import zmq


def main() -> int:
    ep, sync_ep, identity, mode = sys.argv[1:5]
    signal.alarm(60)  # never outlive a test that lost track of us
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sync = ctx.socket(zmq.PUSH)
    sub.linger = 0
    sync.linger = 0
    sub.setsockopt(zmq.IDENTITY, identity.encode())
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(ep)
    sync.connect(sync_ep)
    if mode == "idle":
        sub.rcvtimeo = 3000
    synced = False
    expect = 0
    bad = False
    out = sys.stdout
    while True:
        try:
            msg = sub.recv()
        except zmq.Again:
            out.write("IDLE\n")
            out.flush()
            break
        if msg == b"WELCOME":
            if not synced and mode != "idle":
                sync.send(b"sync")
            synced = True
            continue
        if mode == "count":
            if msg == b"END":
                out.write(f"COUNT {expect} {'BAD' if bad else 'OK'}\n")
                out.flush()
                break
            (seq,) = struct.unpack_from("<Q", msg)
            if len(msg) != 1024 or seq != expect:
                bad = True
            expect += 1
            continue
        out.write(msg.decode() + "\n")
        out.flush()
        if msg == b"END":
            break
    sub.close()
    sync.close()
    ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
