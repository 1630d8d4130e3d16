//! tcp/ipc endpoint bookkeeping of [`Socket`] (zmq_unbind, zmq_disconnect), as libzmq keeps it.
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
