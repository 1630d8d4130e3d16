"""The issue's seed scenarios for ZMQ_HWM, ZMQ_SWAP and durable identities, through pyzmq on
libzmq-rs, over tcp and ipc.

Run by scripts/python-tests.sh, which installs pyzmq from PyPI in a venv and runs pytest with
LD_PRELOAD set to our libzmq.so.5 (LIBZMQ_RS names it): pyzmq's extension then binds every
zmq_* call to our library instead of the libzmq bundled in its wheel. test_our_library_is_loaded
proves it (the bundled libzmq is also 4.3.5, but has neither "swap" nor "durable").

pyzmq does not know the 2.x options: ZMQ_HWM (1) it passes as an int, as do unknown options
such as ZMQ_SWAP (3) (ours takes a 4- or 8-byte int and reads back as either). A string option
it does not know, ZMQ_SWAP_DIR (1001), goes through ctypes to the same library.

The publisher is this process; subscribers are durable_sub.py in child processes, whose stdout
we read line by line and which we kill with SIGKILL. See capi-tests/ours/durable.c for the same
scenarios in C and for the sync protocol (WELCOME until the subscriber's sync arrives).
"""

import ctypes
import errno
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time

import pytest
import zmq
from zmq.utils.monitor import recv_monitor_message

ZMQ_HWM = 1
ZMQ_SWAP = 3
ZMQ_SWAP_DIR = 1001
ZMQ_DURABLE = 1002
ZMQ_DURABLE_IVL = 1003

HERE = os.path.dirname(os.path.abspath(__file__))
SUB = os.path.join(HERE, "durable_sub.py")
LIB = os.environ.get("LIBZMQ_RS", "")
UPDATES = 10

_lib = ctypes.CDLL(LIB) if LIB else None
if _lib is not None:
    _lib.zmq_setsockopt.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
    _lib.zmq_errno.argtypes = []


def set_swap_dir(sock: zmq.Socket, path: str) -> None:
    data = path.encode()
    if _lib.zmq_setsockopt(sock.underlying, ZMQ_SWAP_DIR, data, len(data)) != 0:
        raise zmq.ZMQError(_lib.zmq_errno())


def vmrss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def files_in(path) -> list:
    return sorted(os.listdir(path))


def wait_empty(path, timeout=2.0) -> list:
    end = time.monotonic() + timeout
    while files_in(path) and time.monotonic() < end:
        time.sleep(0.01)
    return files_in(path)


@pytest.fixture(params=["tcp", "ipc"])
def transport(request):
    return request.param


class Sub:
    """A subscriber process."""

    def __init__(self, pub: "Publisher", mode: str = "print", identity: str = "Hello"):
        self.proc = subprocess.Popen(
            [sys.executable, SUB, pub.endpoint, pub.sync_endpoint, identity, mode],
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self.buf = b""

    def line(self, timeout: float = 10.0):
        """The next line, or None at EOF or timeout."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def lines_until(self, want: str, into: list, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while True:
            line = self.line(max(0.0, end - time.monotonic()))
            if line is None:
                return False
            into.append(line)
            if line == want:
                return True

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()

    def wait(self, timeout: float = 10.0) -> int:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        return rc


class Publisher:
    def __init__(self, transport: str, tmp_path, hwm=None, swap=None):
        self.swap_dir = str(tmp_path / "swap")
        os.mkdir(self.swap_dir)
        self.ctx = zmq.Context()
        self.pub = self.ctx.socket(zmq.PUB)
        self.sync = self.ctx.socket(zmq.PULL)
        if hwm is not None:
            self.pub.setsockopt(ZMQ_HWM, hwm)
        if swap is not None:
            self.pub.setsockopt(ZMQ_SWAP, swap)
            set_swap_dir(self.pub, self.swap_dir)
        if transport == "tcp":
            self.pub.bind("tcp://127.0.0.1:*")
            self.sync.bind("tcp://127.0.0.1:*")
        else:
            self.pub.bind(f"ipc://{tmp_path}/pub.ipc")
            self.sync.bind(f"ipc://{tmp_path}/sync.ipc")
        self.endpoint = self.pub.last_endpoint.decode()
        self.sync_endpoint = self.sync.last_endpoint.decode()
        self.children = []

    def subscriber(self, mode="print", identity="Hello") -> Sub:
        s = Sub(self, mode, identity)
        self.children.append(s)
        return s

    def welcome(self) -> bool:
        """Publishes WELCOME until the subscriber's sync arrives."""
        end = time.monotonic() + 10
        while time.monotonic() < end:
            self.pub.send(b"WELCOME", zmq.DONTWAIT)
            if self.sync.poll(20):
                return self.sync.recv() == b"sync"
        return False

    def send(self, data: bytes) -> float:
        """Sends without waiting; returns how long it took, in seconds."""
        t0 = time.monotonic()
        self.pub.send(data, zmq.DONTWAIT)
        return time.monotonic() - t0

    def close(self) -> None:
        for c in self.children:
            if c.proc.poll() is None:
                c.proc.kill()
                c.proc.wait()
        self.pub.close(linger=0)
        self.sync.close(linger=0)
        self.ctx.term()


@pytest.fixture
def publisher_factory(tmp_path):
    made = []

    def make(transport, **kw):
        p = Publisher(transport, tmp_path, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        if not p.pub.closed:
            p.close()


def test_our_library_is_loaded():
    assert LIB, "LIBZMQ_RS is not set (run scripts/python-tests.sh)"
    assert LIB in os.environ.get("LD_PRELOAD", "")
    assert zmq.zmq_version() == "4.3.5"
    # pyzmq's bundled libzmq 4.3.5 has neither capability.
    assert zmq.has("swap") and zmq.has("durable")
    with open("/proc/self/maps") as f:
        assert os.path.realpath(LIB) in f.read()


def test_options_through_pyzmq(tmp_path):
    ctx = zmq.Context()
    s = ctx.socket(zmq.PUB)
    s.setsockopt(ZMQ_HWM, 7)
    assert (s.getsockopt(zmq.SNDHWM), s.getsockopt(zmq.RCVHWM), s.getsockopt(ZMQ_HWM)) == (7, 7, 7)
    s.setsockopt(ZMQ_SWAP, 25_000_000)
    assert s.getsockopt(ZMQ_SWAP) == 25_000_000
    with pytest.raises(zmq.ZMQError) as e:
        set_swap_dir(s, str(tmp_path / "missing"))
    assert e.value.errno == errno.ENOENT
    (tmp_path / "file").write_text("")
    with pytest.raises(zmq.ZMQError) as e:
        set_swap_dir(s, str(tmp_path / "file"))
    assert e.value.errno == errno.ENOTDIR
    set_swap_dir(s, str(tmp_path))
    s.setsockopt(ZMQ_DURABLE, 1)
    assert s.getsockopt(ZMQ_DURABLE) == 1
    s.setsockopt(ZMQ_DURABLE_IVL, 5000)
    assert s.getsockopt(ZMQ_DURABLE_IVL) == 5000
    s.close()
    ctx.term()


def three_lives(pub: Publisher):
    """Scenarios 1-3: Update 0..9 and END, one per 100 ms; the subscriber is killed right
    after printing Update 2 and Update 6 and restarted after two more updates. Returns what
    its three lives printed, the slowest send, and how often a swap file existed while it
    was away."""
    lines = []
    sub = pub.subscriber()
    assert pub.welcome()
    slowest = 0.0
    swapped = 0
    for i in range(UPDATES):
        msg = f"Update {i}"
        slowest = max(slowest, pub.send(msg.encode()))
        if i in (2, 6):
            # It printed what was just sent, hence everything it received: kill it.
            assert sub.lines_until(msg, lines)
            sub.kill()
        time.sleep(0.1)
        if i in (4, 8):
            if files_in(pub.swap_dir):
                swapped += 1
            sub = pub.subscriber()
            line = sub.line()  # attached again
            assert line is not None
            lines.append(line)
    slowest = max(slowest, pub.send(b"END"))
    assert sub.lines_until("END", lines)
    assert sub.wait() == 0
    return lines, slowest, swapped


ALL = [f"Update {i}" for i in range(UPDATES)] + ["END"]


def test_durable_subscriber(publisher_factory, transport):
    """Scenario 1: every update exactly once, in order, then END; memory stays flat."""
    pub = publisher_factory(transport)
    rss0 = vmrss_kib()
    lines, slowest, _ = three_lives(pub)
    assert lines == ALL
    assert slowest < 1.0
    assert vmrss_kib() < rss0 + 8 * 1024


def test_hwm_1_loses_while_away(publisher_factory, transport):
    """Scenario 2: ZMQ_HWM = 1, no swap: of the two updates sent while the subscriber was
    away the first is kept, the second lost; nothing blocks."""
    pub = publisher_factory(transport, hwm=1)
    assert pub.pub.getsockopt(zmq.SNDHWM) == 1
    lines, slowest, _ = three_lives(pub)
    lost = {"Update 4", "Update 8"}
    assert lines == [line for line in ALL if line not in lost]
    assert slowest < 1.0


def test_hwm_1_swap_loses_nothing(publisher_factory, transport):
    """Scenario 3: ZMQ_HWM = 1 and ZMQ_SWAP = 25,000,000: nothing lost; the second update
    of each absence was in a swap file; no file is left."""
    pub = publisher_factory(transport, hwm=1, swap=25_000_000)
    lines, slowest, swapped = three_lives(pub)
    assert lines == ALL
    assert swapped == 2
    assert slowest < 1.0
    swap_dir = pub.swap_dir
    pub.close()
    assert files_in(swap_dir) == []


def test_backlog_in_swap_not_in_memory(publisher_factory, transport):
    """Scenario 3, memory: a 200 MB backlog of 1 KiB messages for an absent durable
    subscriber keeps the publisher's VmRSS within 32 MB of the idle figure, and all of it
    arrives, in order, when the subscriber comes back."""
    n = 200 * 1024
    pub = publisher_factory(transport, hwm=1, swap=256 << 20)
    sub = pub.subscriber("count")
    assert pub.welcome()
    sub.kill()
    time.sleep(0.2)
    pad = bytes(1016)
    idle = vmrss_kib()
    for i in range(n):
        pub.pub.send(struct.pack("<Q", i) + pad, zmq.DONTWAIT)
    full = vmrss_kib()
    stored = sum(os.path.getsize(os.path.join(pub.swap_dir, f)) for f in files_in(pub.swap_dir))
    print(f"VmRSS idle {idle} KiB, with a {n >> 10} MB backlog {full} KiB; swap {stored} bytes")
    # On disk but for the message the pipe holds and the store's unwritten block (1 MiB).
    assert stored >= n * 1024 - (2 << 20)
    assert full < idle + 32 * 1024
    pub.send(b"END")
    sub = pub.subscriber("count")
    assert sub.line(60) == f"COUNT {n} OK"
    assert sub.wait() == 0
    assert wait_empty(pub.swap_dir) == []


def test_duplicate_identity_is_refused(publisher_factory, transport):
    """Scenario 5: a second subscriber "Hello" while the first is attached is refused (a
    handshake-failed event), the first keeps receiving everything, and no process aborts."""
    pub = publisher_factory(transport)
    mon = pub.pub.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
    first = pub.subscriber()
    assert pub.welcome()
    second = pub.subscriber("idle")
    assert mon.poll(10000)
    assert recv_monitor_message(mon)["event"] == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    for i in range(UPDATES):
        pub.send(f"Update {i}".encode())
        time.sleep(0.05)
    pub.send(b"END")
    lines = []
    assert first.lines_until("END", lines)
    assert lines == ALL
    assert first.wait() == 0
    other = []
    assert second.lines_until("IDLE", other, 15)
    assert other == ["IDLE"]
    assert second.wait() == 0
    pub.pub.disable_monitor()
    mon.close()


def test_push_to_slow_pull(tmp_path, transport):
    """Scenario 4: PUSH with ZMQ_SNDHWM = 10 and swap never blocks until the swap budget is
    used up, then blocks (ZMQ_SNDTIMEO runs out); every message arrives exactly once, in
    order."""
    budget = 2 << 20
    ctx = zmq.Context()
    try:
        pull = ctx.socket(zmq.PULL)
        pull.rcvhwm = 10
        pull.rcvtimeo = 20000
        ep = "tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/slow.ipc"
        pull.bind(ep)
        push = ctx.socket(zmq.PUSH)
        push.sndhwm = 10
        push.sndtimeo = 300
        push.setsockopt(ZMQ_SWAP, budget)
        swap_dir = str(tmp_path / "swap")
        os.mkdir(swap_dir)
        set_swap_dir(push, swap_dir)
        push.connect(pull.last_endpoint.decode())

        def msg(i):
            return struct.pack("<Q", i) + bytes([i & 0xFF]) * 1016

        push.send(msg(0))
        assert pull.recv() == msg(0)
        # The PULL reads nothing for now: every send returns at once until the budget is
        # used up; the first that does not waits ZMQ_SNDTIMEO and fails.
        sent, slowest = 1, 0.0
        while True:
            t0 = time.monotonic()
            try:
                push.send(msg(sent))
            except zmq.Again:
                blocked = time.monotonic() - t0
                break
            slowest = max(slowest, time.monotonic() - t0)
            sent += 1
        assert sent >= budget // 1033 + 10
        assert slowest < 0.25
        assert blocked >= 0.25
        assert files_in(swap_dir)
        with pytest.raises(zmq.Again):
            push.send(msg(sent), zmq.DONTWAIT)
        # A sender thread goes on with 3000 more, blocking when it must, while this thread
        # reads, slowly at first.
        push.sndtimeo = 30000
        errors = []

        def sender(first):
            try:
                for i in range(first, first + 3000):
                    push.send(msg(i))
            except zmq.ZMQError as e:
                errors.append(e)

        t = threading.Thread(target=sender, args=(sent,))
        t.start()
        sent += 3000
        for got in range(1, sent):
            assert pull.recv() == msg(got)
            if got < 200:
                time.sleep(0.001)
        t.join()
        assert errors == []
        pull.rcvtimeo = 200
        with pytest.raises(zmq.Again):
            pull.recv()
        assert wait_empty(swap_dir) == []
    finally:
        ctx.destroy(linger=0)


def test_close_and_term_leave_no_file(tmp_path, transport):
    """Scenario 6: a socket closed with a non-empty swap leaves no file behind; a context
    terminated from another thread while a socket swaps returns cleanly."""
    swap_dir = str(tmp_path / "swap")
    os.mkdir(swap_dir)
    ep = "tcp://127.0.0.1:{}" if transport == "tcp" else f"ipc://{tmp_path}/x.ipc"
    if transport == "tcp":
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        ep = ep.format(s.getsockname()[1])
        s.close()
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.sndhwm = 1
    push.linger = 0
    push.setsockopt(ZMQ_SWAP, 4 << 20)
    set_swap_dir(push, swap_dir)
    push.connect(ep)  # nobody there
    for i in range(1000):
        push.send(bytes(1024), zmq.DONTWAIT)
    assert files_in(swap_dir)
    push.close()
    assert wait_empty(swap_dir) == []

    # A sender swapping in a thread, a slow receiver in another; term from this one.
    result = {}
    counts = {}

    def sender():
        s = ctx.socket(zmq.PUSH)
        s.sndhwm = 1
        s.linger = 0
        s.sndbuf = 16384  # little in flight: the swap fills soon
        s.setsockopt(ZMQ_SWAP, 8 << 20)
        set_swap_dir(s, swap_dir)
        s.connect(ep)
        n = 0
        try:
            while True:
                s.send(bytes(1024))
                n += 1
        except zmq.ZMQError as e:
            result["sender"] = e.errno
        finally:
            counts["sent"] = n
            s.close()

    def receiver(ready):
        s = ctx.socket(zmq.PULL)
        s.rcvhwm = 1
        s.rcvbuf = 16384
        s.linger = 0
        s.bind(ep)
        ready.set()
        n = 0
        try:
            while True:
                s.recv()
                n += 1
                counts["received"] = n
                time.sleep(0.001)
        except zmq.ZMQError as e:
            result["receiver"] = e.errno
        finally:
            s.close()

    ready = threading.Event()
    threads = [threading.Thread(target=receiver, args=(ready,), daemon=True)]
    threads[0].start()
    ready.wait(5)
    threads.append(threading.Thread(target=sender, daemon=True))
    threads[1].start()
    # Swapping: segment files present for 200 ms on end (a store that drains completely
    # deletes its file, as it may at the start, before the socket buffers are full).
    end = time.monotonic() + 10
    steady = 0
    while steady < 20 and time.monotonic() < end:
        steady = steady + 1 if files_in(swap_dir) else 0
        time.sleep(0.01)
    assert steady == 20, (result, counts)
    t0 = time.monotonic()
    ctx.term()
    assert time.monotonic() - t0 < 5
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    assert result == {"sender": zmq.ETERM, "receiver": zmq.ETERM}
    assert files_in(swap_dir) == []
