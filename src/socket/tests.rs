//! tcp/ipc endpoint bookkeeping of [`Socket`] (zmq_unbind, zmq_disconnect), as libzmq keeps it.
#![forbid(unsafe_code)]

use super::Socket;
use crate::consts::*;
use crate::ctx::Context;
use crate::error::Error;

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
