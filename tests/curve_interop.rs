//! Interop with a live libzmq: our sans-IO `zmtp::Connection` (through the hidden
//! `zmq::testing::Peer`, driven here over a blocking `TcpStream` on 127.0.0.1) against the
//! system's libzmq 4.3 (Debian's is built with libsodium), run as a small C program
//! (`tests/interop/zmq_peer.c`, linked with `-lzmq`). Each test completes a CURVE or PLAIN
//! handshake in one direction and exchanges a multipart message both ways; the C side runs a
//! real ZAP handler when it is the server.
//!
//! When no C compiler or libzmq is installed the tests print `SKIP` and pass; CI installs
//! both (scripts/deps.sh), so there they always run.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use zmq::consts::ZMQ_DEALER;
use zmq::testing::{Peer, PeerEvent, curve_keypair, z85_encode};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the C helper once per test run; None (after saying so) if it cannot be built.
fn helper() -> Option<&'static Path> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("zmq_peer");
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/zmq_peer.c");
            let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
            let result = Command::new(&cc)
                .args(["-Wall", "-Wextra", "-Werror", "-o"])
                .arg(&out)
                .arg(&src)
                .args(["-lzmq", "-lpthread"])
                .output();
            match result {
                Ok(o) if o.status.success() => Some(out),
                Ok(o) => {
                    eprintln!(
                        "SKIP curve_interop: {cc} could not build the libzmq helper (install \
                         gcc and libzmq3-dev):\n{}",
                        String::from_utf8_lossy(&o.stderr)
                    );
                    None
                }
                Err(e) => {
                    eprintln!("SKIP curve_interop: no C compiler ({cc}): {e}");
                    None
                }
            }
        })
        .as_deref()
}

/// The C helper running as a child, its stdout lines arriving on a channel.
struct LibzmqPeer {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl LibzmqPeer {
    fn spawn(args: &[&str]) -> Option<LibzmqPeer> {
        let path = helper()?;
        let mut child = Command::new(path)
            .args(args)
            // Make sure the helper loads the system's libzmq, not anything of ours.
            .env_remove("LD_LIBRARY_PATH")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the libzmq helper");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Some(LibzmqPeer {
            child,
            lines,
            seen: Vec::new(),
        })
    }

    /// Waits for a line starting with `prefix`; returns the rest of it.
    fn line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(l) = self.seen.iter().find(|l| l.starts_with(prefix)) {
                return l[prefix.len()..].trim().to_owned();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!(
                    "libzmq helper never printed {prefix:?}; saw {:?}",
                    self.seen
                ),
            }
        }
    }

    /// Waits for a clean exit.
    fn finish(self) -> Vec<String> {
        self.exit_with(0)
    }

    /// Waits for the helper to exit with `code`; returns everything it printed.
    fn exit_with(mut self, code: i32) -> Vec<String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(l);
                }
                assert_eq!(
                    status.code(),
                    Some(code),
                    "libzmq helper exit status; saw {:?}",
                    self.seen
                );
                return std::mem::take(&mut self.seen);
            }
            assert!(
                Instant::now() < deadline,
                "libzmq helper hung; saw {:?}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LibzmqPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Moves bytes between `stream` and `peer` until `done` says so (it sees every event and may
/// answer ZAP requests through the peer), or fails with the peer's failure or a timeout.
fn drive(
    stream: &mut TcpStream,
    peer: &mut Peer,
    mut done: impl FnMut(&mut Peer, PeerEvent) -> bool,
) -> Result<(), String> {
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("set a read timeout");
    let deadline = Instant::now() + TIMEOUT;
    let mut buf = vec![0u8; 1 << 16];
    let mut finished = false;
    loop {
        while let Some(ev) = peer.poll() {
            finished |= done(peer, ev);
        }
        let out = peer.take_output();
        if !out.is_empty() {
            stream.write_all(&out).map_err(|e| e.to_string())?;
        }
        if finished {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("timed out".to_owned());
        }
        match stream.read(&mut buf) {
            Ok(0) => return Err("libzmq closed the connection".to_owned()),
            Ok(n) => {
                if std::env::var_os("INTEROP_TRACE").is_some() {
                    eprintln!("in: {:02x?}", &buf[..n.min(120)]);
                }
                peer.feed(&buf[..n])?
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Runs the handshake; returns the peer's properties.
fn handshake(stream: &mut TcpStream, peer: &mut Peer) -> Result<Vec<(String, String)>, String> {
    let mut props = None;
    drive(stream, peer, |_, ev| match ev {
        PeerEvent::Handshake(p) => {
            props = Some(p);
            true
        }
        other => panic!("unexpected before the handshake: {other:?}"),
    })?;
    Ok(props.unwrap_or_default())
}

/// Receives one multipart message.
fn recv(stream: &mut TcpStream, peer: &mut Peer) -> Vec<Vec<u8>> {
    let mut parts = Vec::new();
    drive(stream, peer, |_, ev| match ev {
        PeerEvent::Message { data, more } => {
            parts.push(data);
            !more
        }
        other => panic!("unexpected: {other:?}"),
    })
    .expect("receive a message");
    parts
}

fn send(stream: &mut TcpStream, peer: &mut Peer, parts: &[&[u8]]) {
    for (i, p) in parts.iter().enumerate() {
        peer.send(p, i + 1 < parts.len());
    }
    stream
        .write_all(&peer.take_output())
        .expect("write to libzmq");
}

fn connect(endpoint: &str) -> TcpStream {
    let addr = endpoint.strip_prefix("tcp://").expect("a tcp endpoint");
    TcpStream::connect(addr).expect("connect to libzmq")
}

fn has(lines: &[String], want: &str) -> bool {
    lines.iter().any(|l| l == want)
}

#[test]
fn our_curve_client_against_a_libzmq_curve_server() {
    let (server_public, server_secret) = curve_keypair();
    let Some(mut lz) = LibzmqPeer::spawn(&["server", "CURVE", &z85_encode(&server_secret)]) else {
        return;
    };
    let mut stream = connect(&lz.line("ENDPOINT "));
    let (public, secret) = curve_keypair();
    let mut peer = Peer::curve_client(ZMQ_DEALER, server_public, public, secret);
    let props = handshake(&mut stream, &mut peer).expect("CURVE handshake with libzmq");
    assert!(props.contains(&("Socket-Type".to_owned(), "DEALER".to_owned())));
    send(&mut stream, &mut peer, &[b"hello", b"from rust"]);
    assert_eq!(
        recv(&mut stream, &mut peer),
        [b"reply".to_vec(), b"hello".to_vec()]
    );
    let lines = lz.finish();
    assert!(has(&lines, "ZAP CURVE 200"), "{lines:?}");
    assert!(has(&lines, "RECV hello|from rust"), "{lines:?}");
    assert!(has(&lines, "USER-ID interop-user"), "{lines:?}");
}

#[test]
fn a_libzmq_curve_client_against_our_curve_server() {
    let (server_public, server_secret) = curve_keypair();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let Some(mut lz) =
        LibzmqPeer::spawn(&["client", "CURVE", &endpoint, &z85_encode(&server_public)])
    else {
        return;
    };
    let (mut stream, _) = listener.accept().unwrap();
    let client_key = lz.line("CLIENT-KEY ");
    let mut peer = Peer::curve_server(ZMQ_DEALER, server_secret, b"interop");
    let mut props = None;
    drive(&mut stream, &mut peer, |peer, ev| match ev {
        PeerEvent::ZapRequest(frames) => {
            assert_eq!(frames[6], b"CURVE");
            assert_eq!(
                z85_encode(&frames[7]),
                client_key,
                "ZAP sees libzmq's public key"
            );
            peer.zap_reply(&[b"", b"1.0", &frames[2], b"200", b"OK", b"rust-user", b""])
                .unwrap();
            false
        }
        PeerEvent::Handshake(p) => {
            props = Some(p);
            true
        }
        other => panic!("unexpected: {other:?}"),
    })
    .expect("CURVE handshake with libzmq");
    let props = props.unwrap();
    assert!(props.contains(&("User-Id".to_owned(), "rust-user".to_owned())));
    assert!(props.contains(&("Socket-Type".to_owned(), "DEALER".to_owned())));
    assert_eq!(
        recv(&mut stream, &mut peer),
        [b"hello".to_vec(), b"from libzmq".to_vec()]
    );
    send(&mut stream, &mut peer, &[b"reply", b"hello"]);
    let lines = lz.finish();
    assert!(has(&lines, "RECV reply|hello"), "{lines:?}");
}

#[test]
fn a_libzmq_curve_client_is_refused_by_our_zap_handler_and_reports_auth_400() {
    let (server_public, server_secret) = curve_keypair();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let Some(lz) = LibzmqPeer::spawn(&["client", "CURVE", &endpoint, &z85_encode(&server_public)])
    else {
        return;
    };
    let (mut stream, _) = listener.accept().unwrap();
    let mut peer = Peer::curve_server(ZMQ_DEALER, server_secret, b"interop");
    refuse(&mut stream, &mut peer);
    let lines = lz.exit_with(3);
    assert!(has(&lines, "AUTH 400"), "{lines:?}");
}

/// Answers the pending ZAP request with 400 and sends the resulting ERROR.
fn refuse(stream: &mut TcpStream, peer: &mut Peer) {
    let r = drive(stream, peer, |peer, ev| match ev {
        PeerEvent::ZapRequest(frames) => {
            let r = peer.zap_reply(&[b"", b"1.0", &frames[2], b"400", b"No", b"", b""]);
            assert_eq!(r, Err("Auth(400)".to_owned()));
            true
        }
        other => panic!("unexpected: {other:?}"),
    });
    assert!(r.is_ok(), "{r:?}");
    assert!(!peer.is_active());
}

#[test]
fn a_libzmq_plain_client_is_refused_by_our_zap_handler_and_reports_auth_400() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let Some(lz) = LibzmqPeer::spawn(&["client", "PLAIN", &endpoint]) else {
        return;
    };
    let (mut stream, _) = listener.accept().unwrap();
    let mut peer = Peer::plain_server(ZMQ_DEALER, b"interop", b"127.0.0.1");
    refuse(&mut stream, &mut peer);
    // libzmq's PLAIN client understands only its own "^RROR" spelling of ERROR.
    let lines = lz.exit_with(3);
    assert!(has(&lines, "AUTH 400"), "{lines:?}");
}

#[test]
fn our_plain_client_against_a_libzmq_plain_server() {
    let Some(mut lz) = LibzmqPeer::spawn(&["server", "PLAIN"]) else {
        return;
    };
    let mut stream = connect(&lz.line("ENDPOINT "));
    let mut peer = Peer::plain_client(ZMQ_DEALER, b"admin", b"secret");
    handshake(&mut stream, &mut peer).expect("PLAIN handshake with libzmq");
    send(&mut stream, &mut peer, &[b"hello", b"in plain"]);
    assert_eq!(
        recv(&mut stream, &mut peer),
        [b"reply".to_vec(), b"hello".to_vec()]
    );
    let lines = lz.finish();
    assert!(has(&lines, "ZAP PLAIN 200"), "{lines:?}");
    assert!(has(&lines, "RECV hello|in plain"), "{lines:?}");
    assert!(has(&lines, "USER-ID interop-user"), "{lines:?}");
}

#[test]
fn our_plain_client_with_a_wrong_password_is_refused_by_libzmq() {
    let Some(mut lz) = LibzmqPeer::spawn(&["server", "PLAIN"]) else {
        return;
    };
    let mut stream = connect(&lz.line("ENDPOINT "));
    let mut peer = Peer::plain_client(ZMQ_DEALER, b"admin", b"wrong");
    let r = handshake(&mut stream, &mut peer);
    assert_eq!(
        r,
        Err("Auth(400)".to_owned()),
        "libzmq's ERROR 400 reaches us"
    );
    assert_eq!(lz.line("ZAP PLAIN "), "400");
}

#[test]
fn a_libzmq_plain_client_against_our_plain_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let Some(lz) = LibzmqPeer::spawn(&["client", "PLAIN", &endpoint]) else {
        return;
    };
    let (mut stream, _) = listener.accept().unwrap();
    let mut peer = Peer::plain_server(ZMQ_DEALER, b"interop", b"127.0.0.1");
    drive(&mut stream, &mut peer, |peer, ev| match ev {
        PeerEvent::ZapRequest(frames) => {
            assert_eq!(frames[3], b"interop");
            assert_eq!(
                &frames[6..],
                [b"PLAIN".to_vec(), b"admin".to_vec(), b"secret".to_vec()]
            );
            peer.zap_reply(&[b"", b"1.0", &frames[2], b"200", b"OK", b"admin", b""])
                .unwrap();
            false
        }
        PeerEvent::Handshake(_) => true,
        other => panic!("unexpected: {other:?}"),
    })
    .expect("PLAIN handshake with libzmq");
    assert_eq!(
        recv(&mut stream, &mut peer),
        [b"hello".to_vec(), b"from libzmq".to_vec()]
    );
    send(&mut stream, &mut peer, &[b"reply", b"hello"]);
    let lines = lz.finish();
    assert!(has(&lines, "RECV reply|hello"), "{lines:?}");
}
