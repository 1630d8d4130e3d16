//! tcp/ipc endpoint bookkeeping of [`Socket`] (zmq_unbind, zmq_disconnect) and when a connect
//! gives up, as libzmq does.
#![forbid(unsafe_code)]

use super::Socket;
use crate::consts::*;
use crate::ctx::Context;
use crate::error::Error;
use crate::msg::Msg;

fn last_endpoint(s: &mut Socket) -> String {
    let mut buf = [0u8; 256];
    let n = s.get_option(ZMQ_LAST_ENDPOINT, &mut buf).unwrap();
    String::from_utf8(buf[..n - 1].to_vec()).unwrap()
}

#[test]
fn unbind_names_a_tcp_bind_by_its_resolved_endpoint_only() {
    let ctx = Context::new();
    let mut s = Socket::new(ctx.shared().clone(), ZMQ_PULL).unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let resolved = last_endpoint(&mut s);
    assert_ne!(resolved, "tcp://127.0.0.1:*");
    assert_eq!(s.unbind("tcp://127.0.0.1:*"), Err(Error::NotFound));
    assert_eq!(s.unbind(&resolved), Ok(()));
    assert_eq!(s.unbind(&resolved), Err(Error::NotFound));
    s.close();
    ctx.terminate();
}

fn set_int(s: &mut Socket, option: i32, value: i32) {
    s.set_option(option, &value.to_ne_bytes()).unwrap();
}

/// A PULL bound on loopback tcp and a PUSH connected to it, with receive timeouts.
fn push_pull(ctx: &Context) -> (Socket, Socket, String) {
    let mut pull = Socket::new(ctx.shared().clone(), ZMQ_PULL).unwrap();
    let mut push = Socket::new(ctx.shared().clone(), ZMQ_PUSH).unwrap();
    set_int(&mut pull, ZMQ_RCVTIMEO, 2000);
    set_int(&mut push, ZMQ_LINGER, 0);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&mut pull);
    push.connect(&ep).unwrap();
    (push, pull, ep)
}

fn send(s: &mut Socket, data: &[u8]) -> Result<(), Error> {
    s.send(&mut Msg::copy_from(data), false, true)
}

#[test]
fn disconnect_drops_the_connections_pipe_at_once() {
    let ctx = Context::new();
    let (mut push, mut pull, ep) = push_pull(&ctx);
    send(&mut push, b"a").unwrap();
    assert_eq!(pull.recv(false).unwrap().data(), b"a");
    push.disconnect(&ep).unwrap();
    assert_eq!(send(&mut push, b"b"), Err(Error::Again));
    assert_eq!(push.disconnect(&ep), Err(Error::NotFound));
    push.close();
    pull.close();
    ctx.terminate();
}

#[test]
fn unbind_closes_the_connections_the_listener_accepted() {
    let ctx = Context::new();
    let (mut push, mut pull, ep) = push_pull(&ctx);
    send(&mut push, b"1").unwrap();
    assert_eq!(pull.recv(false).unwrap().data(), b"1");
    pull.unbind(&ep).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let _ = send(&mut push, b"2");
    set_int(&mut pull, ZMQ_RCVTIMEO, 300);
    assert!(matches!(pull.recv(false), Err(Error::Again)));
    push.close();
    pull.close();
    ctx.terminate();
}

/// Serves one ZAP request on `zap` with `status`; returns the request's mechanism frame.
fn zap_answer(zap: &mut Socket, status: &[u8]) -> Vec<u8> {
    let mut frames = Vec::new();
    loop {
        let m = zap.recv(false).unwrap();
        let more = m.more();
        frames.push(m.data().to_vec());
        if !more {
            break;
        }
    }
    let reply: [&[u8]; 6] = [b"1.0", &frames[1], status, b"", b"", b""];
    for (i, part) in reply.iter().enumerate() {
        zap.send(&mut Msg::copy_from(part), i + 1 < reply.len(), false)
            .unwrap();
    }
    frames[5].clone()
}

#[test]
fn a_client_refused_by_zap_does_not_reconnect() {
    let ctx = Context::new();
    let mut zap = Socket::new(ctx.shared().clone(), ZMQ_REP).unwrap();
    set_int(&mut zap, ZMQ_RCVTIMEO, 2000);
    zap.bind("inproc://zeromq.zap.01").unwrap();
    let mut pull = Socket::new(ctx.shared().clone(), ZMQ_PULL).unwrap();
    let mut push = Socket::new(ctx.shared().clone(), ZMQ_PUSH).unwrap();
    set_int(&mut pull, ZMQ_PLAIN_SERVER, 1);
    set_int(&mut pull, ZMQ_RCVTIMEO, 100);
    set_int(&mut push, ZMQ_LINGER, 0);
    set_int(&mut push, ZMQ_RECONNECT_IVL, 10);
    push.set_option(ZMQ_PLAIN_USERNAME, b"admin").unwrap();
    push.set_option(ZMQ_PLAIN_PASSWORD, b"wrong").unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    push.connect(&last_endpoint(&mut pull)).unwrap();
    send(&mut push, b"x").unwrap();
    assert_eq!(zap_answer(&mut zap, b"400"), b"PLAIN");
    // The server's ERROR ends the client's session: no second attempt reaches the handler.
    set_int(&mut zap, ZMQ_RCVTIMEO, 500);
    assert!(matches!(zap.recv(false), Err(Error::Again)));
    assert!(matches!(pull.recv(false), Err(Error::Again)));
    push.close();
    pull.close();
    zap.close();
    ctx.terminate();
}

/// Reads one monitor event (two frames) and returns its number.
fn next_event(mon: &mut Socket) -> u16 {
    let head = mon.recv(false).unwrap();
    let _endpoint = mon.recv(false).unwrap();
    u16::from_ne_bytes([head.data()[0], head.data()[1]])
}

#[test]
fn a_peer_is_attached_once_its_handshake_is_reported() {
    // Whoever has seen HANDSHAKE_SUCCEEDED can make the socket take the peer in by reading
    // ZMQ_EVENTS: the pipe was on its way before the event.
    let ctx = Context::new();
    for round in 0..20 {
        let mut router = Socket::new(ctx.shared().clone(), ZMQ_ROUTER).unwrap();
        let mut dealer = Socket::new(ctx.shared().clone(), ZMQ_DEALER).unwrap();
        let mut mon = Socket::new(ctx.shared().clone(), ZMQ_PAIR).unwrap();
        set_int(&mut router, ZMQ_ROUTER_MANDATORY, 1);
        set_int(&mut mon, ZMQ_RCVTIMEO, 2000);
        set_int(&mut dealer, ZMQ_LINGER, 0);
        dealer.set_option(ZMQ_ROUTING_ID, b"d").unwrap();
        let mon_ep = format!("inproc://attached-monitor-{round}");
        router
            .monitor(Some(&mon_ep), ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            .unwrap();
        mon.connect(&mon_ep).unwrap();
        router.bind("tcp://127.0.0.1:*").unwrap();
        dealer.connect(&last_endpoint(&mut router)).unwrap();
        assert_eq!(next_event(&mut mon), ZMQ_EVENT_HANDSHAKE_SUCCEEDED as u16);
        router.events().unwrap();
        assert_eq!(router.send(&mut Msg::copy_from(b"d"), true, true), Ok(()));
        assert_eq!(send(&mut router, b"hello"), Ok(()));
        router.monitor(None, 0).unwrap();
        mon.close();
        dealer.close();
        router.close();
    }
    ctx.terminate();
}

#[test]
fn a_connecting_router_addresses_the_peer_it_named_at_once() {
    let ctx = Context::new();
    let mut server = Socket::new(ctx.shared().clone(), ZMQ_ROUTER).unwrap();
    let mut client = Socket::new(ctx.shared().clone(), ZMQ_ROUTER).unwrap();
    set_int(&mut server, ZMQ_RCVTIMEO, 2000);
    set_int(&mut client, ZMQ_ROUTER_MANDATORY, 1);
    client.set_option(ZMQ_ROUTING_ID, b"client").unwrap();
    client.set_option(ZMQ_CONNECT_ROUTING_ID, b"srv").unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    client.connect(&last_endpoint(&mut server)).unwrap();
    // Before the connection is up: the message waits in the pipe.
    assert_eq!(client.send(&mut Msg::copy_from(b"srv"), true, true), Ok(()));
    assert_eq!(send(&mut client, b"hello"), Ok(()));
    assert_eq!(server.recv(false).unwrap().data(), b"client");
    assert_eq!(server.recv(false).unwrap().data(), b"hello");
    // The option names one connection only.
    assert_eq!(
        client.send(&mut Msg::copy_from(b"other"), true, true),
        Err(Error::HostUnreachable)
    );
    client.close();
    server.close();
    ctx.terminate();
}

#[test]
fn a_req_drops_the_connection_of_a_malformed_reply() {
    let ctx = Context::new();
    let mut router = Socket::new(ctx.shared().clone(), ZMQ_ROUTER).unwrap();
    let mut req = Socket::new(ctx.shared().clone(), ZMQ_REQ).unwrap();
    let mut mon = Socket::new(ctx.shared().clone(), ZMQ_PAIR).unwrap();
    set_int(&mut router, ZMQ_RCVTIMEO, 2000);
    set_int(&mut req, ZMQ_RCVTIMEO, 200);
    set_int(&mut mon, ZMQ_RCVTIMEO, 2000);
    req.set_option(ZMQ_ROUTING_ID, b"R").unwrap();
    req.monitor(Some("inproc://malformed-monitor"), ZMQ_EVENT_DISCONNECTED)
        .unwrap();
    mon.connect("inproc://malformed-monitor").unwrap();
    router.bind("tcp://127.0.0.1:*").unwrap();
    req.connect(&last_endpoint(&mut router)).unwrap();
    send(&mut req, b"q").unwrap();
    for want in [&b"R"[..], b"", b"q"] {
        assert_eq!(router.recv(false).unwrap().data(), want);
    }
    // A reply without the empty delimiter.
    router.send(&mut Msg::copy_from(b"R"), true, false).unwrap();
    send(&mut router, b"bad").unwrap();
    assert_eq!(next_event(&mut mon), ZMQ_EVENT_DISCONNECTED as u16);
    assert!(matches!(req.recv(false), Err(Error::Again)));
    req.monitor(None, 0).unwrap();
    mon.close();
    req.close();
    router.close();
    ctx.terminate();
}

#[test]
fn a_pipe_sent_to_a_closed_socket_comes_back_and_its_peer_sees_it_closed() {
    // An I/O thread can finish a handshake just after the socket closed: its Attach must not
    // sit unread in the mailbox (the session would wait forever for the pipe's other end).
    use crate::command::Command;
    use crate::pipe::{self, DirectionConfig, Read};
    let ctx = Context::new();
    let s = Socket::new(ctx.shared().clone(), ZMQ_PULL).unwrap();
    let mailbox = std::sync::Arc::clone(&s.mailbox);
    let (early_ours, early_theirs) =
        pipe::pair(DirectionConfig::default(), DirectionConfig::default());
    mailbox.send(Command::Attach {
        pipe: early_theirs,
        assigned_id: None,
    });
    s.close();
    assert!(
        matches!(early_ours.read(), Read::Closed),
        "a pipe queued before the close is closed by it"
    );
    let (ours, theirs) = pipe::pair(DirectionConfig::default(), DirectionConfig::default());
    let refused = mailbox.send_or_return(Command::Attach {
        pipe: theirs,
        assigned_id: None,
    });
    let Some(Command::Attach { pipe, .. }) = refused else {
        panic!("the closed socket's mailbox took the pipe");
    };
    pipe.close();
    assert!(matches!(ours.read(), Read::Closed));
}
