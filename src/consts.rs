//! The numeric ABI of libzmq 4.3.5: every `ZMQ_*` constant of `zmq.h`, with libzmq's values.
//!
//! Layer L0 (pure data, depends on nothing). cbindgen turns each `pub const` here into a
//! `#define` in `include/zmq.h`, and every layer of the engine uses these same names, so the
//! values live in exactly one place. Draft constants sit in [`draft`], which cbindgen guards with
//! `ZMQ_BUILD_DRAFT_API`; the libzmq-rs extensions (2.x options brought back) sit at the end.
#![allow(
    missing_docs,
    reason = "each value mirrors the zmq.h constant of the same name; zmq_setsockopt(3) and friends document them"
)]
#![forbid(unsafe_code)]

/// libzmq's base for errno values that the platform may lack; `ETERM` and friends add to it.
pub const ZMQ_HAUSNUMERO: i32 = 156384712;

pub const ZMQ_IO_THREADS: i32 = 1;
pub const ZMQ_MAX_SOCKETS: i32 = 2;
pub const ZMQ_SOCKET_LIMIT: i32 = 3;
pub const ZMQ_THREAD_PRIORITY: i32 = 3;
pub const ZMQ_THREAD_SCHED_POLICY: i32 = 4;
pub const ZMQ_MAX_MSGSZ: i32 = 5;
pub const ZMQ_MSG_T_SIZE: i32 = 6;
pub const ZMQ_THREAD_AFFINITY_CPU_ADD: i32 = 7;
pub const ZMQ_THREAD_AFFINITY_CPU_REMOVE: i32 = 8;
pub const ZMQ_THREAD_NAME_PREFIX: i32 = 9;
pub const ZMQ_IO_THREADS_DFLT: i32 = 1;
pub const ZMQ_MAX_SOCKETS_DFLT: i32 = 1023;
pub const ZMQ_THREAD_PRIORITY_DFLT: i32 = -1;
pub const ZMQ_THREAD_SCHED_POLICY_DFLT: i32 = -1;
pub const ZMQ_PAIR: i32 = 0;
pub const ZMQ_PUB: i32 = 1;
pub const ZMQ_SUB: i32 = 2;
pub const ZMQ_REQ: i32 = 3;
pub const ZMQ_REP: i32 = 4;
pub const ZMQ_DEALER: i32 = 5;
pub const ZMQ_ROUTER: i32 = 6;
pub const ZMQ_PULL: i32 = 7;
pub const ZMQ_PUSH: i32 = 8;
pub const ZMQ_XPUB: i32 = 9;
pub const ZMQ_XSUB: i32 = 10;
pub const ZMQ_STREAM: i32 = 11;
pub const ZMQ_XREQ: i32 = ZMQ_DEALER;
pub const ZMQ_XREP: i32 = ZMQ_ROUTER;
pub const ZMQ_AFFINITY: i32 = 4;
pub const ZMQ_ROUTING_ID: i32 = 5;
pub const ZMQ_SUBSCRIBE: i32 = 6;
pub const ZMQ_UNSUBSCRIBE: i32 = 7;
pub const ZMQ_RATE: i32 = 8;
pub const ZMQ_RECOVERY_IVL: i32 = 9;
pub const ZMQ_SNDBUF: i32 = 11;
pub const ZMQ_RCVBUF: i32 = 12;
pub const ZMQ_RCVMORE: i32 = 13;
pub const ZMQ_FD: i32 = 14;
pub const ZMQ_EVENTS: i32 = 15;
pub const ZMQ_TYPE: i32 = 16;
pub const ZMQ_LINGER: i32 = 17;
pub const ZMQ_RECONNECT_IVL: i32 = 18;
pub const ZMQ_BACKLOG: i32 = 19;
pub const ZMQ_RECONNECT_IVL_MAX: i32 = 21;
pub const ZMQ_MAXMSGSIZE: i32 = 22;
pub const ZMQ_SNDHWM: i32 = 23;
pub const ZMQ_RCVHWM: i32 = 24;
pub const ZMQ_MULTICAST_HOPS: i32 = 25;
pub const ZMQ_RCVTIMEO: i32 = 27;
pub const ZMQ_SNDTIMEO: i32 = 28;
pub const ZMQ_LAST_ENDPOINT: i32 = 32;
pub const ZMQ_ROUTER_MANDATORY: i32 = 33;
pub const ZMQ_TCP_KEEPALIVE: i32 = 34;
pub const ZMQ_TCP_KEEPALIVE_CNT: i32 = 35;
pub const ZMQ_TCP_KEEPALIVE_IDLE: i32 = 36;
pub const ZMQ_TCP_KEEPALIVE_INTVL: i32 = 37;
pub const ZMQ_IMMEDIATE: i32 = 39;
pub const ZMQ_XPUB_VERBOSE: i32 = 40;
pub const ZMQ_ROUTER_RAW: i32 = 41;
pub const ZMQ_IPV6: i32 = 42;
pub const ZMQ_MECHANISM: i32 = 43;
pub const ZMQ_PLAIN_SERVER: i32 = 44;
pub const ZMQ_PLAIN_USERNAME: i32 = 45;
pub const ZMQ_PLAIN_PASSWORD: i32 = 46;
pub const ZMQ_CURVE_SERVER: i32 = 47;
pub const ZMQ_CURVE_PUBLICKEY: i32 = 48;
pub const ZMQ_CURVE_SECRETKEY: i32 = 49;
pub const ZMQ_CURVE_SERVERKEY: i32 = 50;
pub const ZMQ_PROBE_ROUTER: i32 = 51;
pub const ZMQ_REQ_CORRELATE: i32 = 52;
pub const ZMQ_REQ_RELAXED: i32 = 53;
pub const ZMQ_CONFLATE: i32 = 54;
pub const ZMQ_ZAP_DOMAIN: i32 = 55;
pub const ZMQ_ROUTER_HANDOVER: i32 = 56;
pub const ZMQ_TOS: i32 = 57;
pub const ZMQ_CONNECT_ROUTING_ID: i32 = 61;
pub const ZMQ_GSSAPI_SERVER: i32 = 62;
pub const ZMQ_GSSAPI_PRINCIPAL: i32 = 63;
pub const ZMQ_GSSAPI_SERVICE_PRINCIPAL: i32 = 64;
pub const ZMQ_GSSAPI_PLAINTEXT: i32 = 65;
pub const ZMQ_HANDSHAKE_IVL: i32 = 66;
pub const ZMQ_SOCKS_PROXY: i32 = 68;
pub const ZMQ_XPUB_NODROP: i32 = 69;
pub const ZMQ_BLOCKY: i32 = 70;
pub const ZMQ_XPUB_MANUAL: i32 = 71;
pub const ZMQ_XPUB_WELCOME_MSG: i32 = 72;
pub const ZMQ_STREAM_NOTIFY: i32 = 73;
pub const ZMQ_INVERT_MATCHING: i32 = 74;
pub const ZMQ_HEARTBEAT_IVL: i32 = 75;
pub const ZMQ_HEARTBEAT_TTL: i32 = 76;
pub const ZMQ_HEARTBEAT_TIMEOUT: i32 = 77;
pub const ZMQ_XPUB_VERBOSER: i32 = 78;
pub const ZMQ_CONNECT_TIMEOUT: i32 = 79;
pub const ZMQ_TCP_MAXRT: i32 = 80;
pub const ZMQ_THREAD_SAFE: i32 = 81;
pub const ZMQ_MULTICAST_MAXTPDU: i32 = 84;
pub const ZMQ_VMCI_BUFFER_SIZE: i32 = 85;
pub const ZMQ_VMCI_BUFFER_MIN_SIZE: i32 = 86;
pub const ZMQ_VMCI_BUFFER_MAX_SIZE: i32 = 87;
pub const ZMQ_VMCI_CONNECT_TIMEOUT: i32 = 88;
pub const ZMQ_USE_FD: i32 = 89;
pub const ZMQ_GSSAPI_PRINCIPAL_NAMETYPE: i32 = 90;
pub const ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE: i32 = 91;
pub const ZMQ_BINDTODEVICE: i32 = 92;
pub const ZMQ_MORE: i32 = 1;
pub const ZMQ_SHARED: i32 = 3;
pub const ZMQ_DONTWAIT: i32 = 1;
pub const ZMQ_SNDMORE: i32 = 2;
pub const ZMQ_NULL: i32 = 0;
pub const ZMQ_PLAIN: i32 = 1;
pub const ZMQ_CURVE: i32 = 2;
pub const ZMQ_GSSAPI: i32 = 3;
pub const ZMQ_GROUP_MAX_LENGTH: i32 = 255;
pub const ZMQ_IDENTITY: i32 = ZMQ_ROUTING_ID;
pub const ZMQ_CONNECT_RID: i32 = ZMQ_CONNECT_ROUTING_ID;
pub const ZMQ_TCP_ACCEPT_FILTER: i32 = 38;
pub const ZMQ_IPC_FILTER_PID: i32 = 58;
pub const ZMQ_IPC_FILTER_UID: i32 = 59;
pub const ZMQ_IPC_FILTER_GID: i32 = 60;
pub const ZMQ_IPV4ONLY: i32 = 31;
pub const ZMQ_DELAY_ATTACH_ON_CONNECT: i32 = ZMQ_IMMEDIATE;
pub const ZMQ_NOBLOCK: i32 = ZMQ_DONTWAIT;
pub const ZMQ_FAIL_UNROUTABLE: i32 = ZMQ_ROUTER_MANDATORY;
pub const ZMQ_ROUTER_BEHAVIOR: i32 = ZMQ_ROUTER_MANDATORY;
pub const ZMQ_SRCFD: i32 = 2;
pub const ZMQ_GSSAPI_NT_HOSTBASED: i32 = 0;
pub const ZMQ_GSSAPI_NT_USER_NAME: i32 = 1;
pub const ZMQ_GSSAPI_NT_KRB5_PRINCIPAL: i32 = 2;
pub const ZMQ_EVENT_CONNECTED: i32 = 0x0001;
pub const ZMQ_EVENT_CONNECT_DELAYED: i32 = 0x0002;
pub const ZMQ_EVENT_CONNECT_RETRIED: i32 = 0x0004;
pub const ZMQ_EVENT_LISTENING: i32 = 0x0008;
pub const ZMQ_EVENT_BIND_FAILED: i32 = 0x0010;
pub const ZMQ_EVENT_ACCEPTED: i32 = 0x0020;
pub const ZMQ_EVENT_ACCEPT_FAILED: i32 = 0x0040;
pub const ZMQ_EVENT_CLOSED: i32 = 0x0080;
pub const ZMQ_EVENT_CLOSE_FAILED: i32 = 0x0100;
pub const ZMQ_EVENT_DISCONNECTED: i32 = 0x0200;
pub const ZMQ_EVENT_MONITOR_STOPPED: i32 = 0x0400;
pub const ZMQ_EVENT_ALL: i32 = 0xFFFF;
pub const ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: i32 = 0x0800;
pub const ZMQ_EVENT_HANDSHAKE_SUCCEEDED: i32 = 0x1000;
pub const ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: i32 = 0x2000;
pub const ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: i32 = 0x4000;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED: i32 = 0x10000000;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND: i32 = 0x10000001;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE: i32 = 0x10000002;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE: i32 = 0x10000003;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED: i32 = 0x10000011;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE: i32 = 0x10000012;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO: i32 = 0x10000013;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE: i32 = 0x10000014;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR: i32 = 0x10000015;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY: i32 = 0x10000016;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME: i32 = 0x10000017;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA: i32 = 0x10000018;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: i32 = 0x11000001;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: i32 = 0x11000002;
pub const ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED: i32 = 0x20000000;
pub const ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY: i32 = 0x20000001;
pub const ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID: i32 = 0x20000002;
pub const ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION: i32 = 0x20000003;
pub const ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE: i32 = 0x20000004;
pub const ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA: i32 = 0x20000005;
pub const ZMQ_PROTOCOL_ERROR_WS_UNSPECIFIED: i32 = 0x30000000;
pub const ZMQ_POLLIN: i32 = 1;
pub const ZMQ_POLLOUT: i32 = 2;
pub const ZMQ_POLLERR: i32 = 4;
pub const ZMQ_POLLPRI: i32 = 8;
pub const ZMQ_POLLITEMS_DFLT: i32 = 16;
pub const ZMQ_STREAMER: i32 = 1;
pub const ZMQ_FORWARDER: i32 = 2;
pub const ZMQ_QUEUE: i32 = 3;

/// libzmq's draft API: compiled in by default, declared in `zmq.h` only under `ZMQ_BUILD_DRAFT_API`.
#[cfg(feature = "draft")]
pub mod draft {
    use super::*;

    pub const ZMQ_SERVER: i32 = 12;
    pub const ZMQ_CLIENT: i32 = 13;
    pub const ZMQ_RADIO: i32 = 14;
    pub const ZMQ_DISH: i32 = 15;
    pub const ZMQ_GATHER: i32 = 16;
    pub const ZMQ_SCATTER: i32 = 17;
    pub const ZMQ_DGRAM: i32 = 18;
    pub const ZMQ_PEER: i32 = 19;
    pub const ZMQ_CHANNEL: i32 = 20;
    pub const ZMQ_ZAP_ENFORCE_DOMAIN: i32 = 93;
    pub const ZMQ_LOOPBACK_FASTPATH: i32 = 94;
    pub const ZMQ_METADATA: i32 = 95;
    pub const ZMQ_MULTICAST_LOOP: i32 = 96;
    pub const ZMQ_ROUTER_NOTIFY: i32 = 97;
    pub const ZMQ_XPUB_MANUAL_LAST_VALUE: i32 = 98;
    pub const ZMQ_SOCKS_USERNAME: i32 = 99;
    pub const ZMQ_SOCKS_PASSWORD: i32 = 100;
    pub const ZMQ_IN_BATCH_SIZE: i32 = 101;
    pub const ZMQ_OUT_BATCH_SIZE: i32 = 102;
    pub const ZMQ_WSS_KEY_PEM: i32 = 103;
    pub const ZMQ_WSS_CERT_PEM: i32 = 104;
    pub const ZMQ_WSS_TRUST_PEM: i32 = 105;
    pub const ZMQ_WSS_HOSTNAME: i32 = 106;
    pub const ZMQ_WSS_TRUST_SYSTEM: i32 = 107;
    pub const ZMQ_ONLY_FIRST_SUBSCRIBE: i32 = 108;
    pub const ZMQ_RECONNECT_STOP: i32 = 109;
    pub const ZMQ_HELLO_MSG: i32 = 110;
    pub const ZMQ_DISCONNECT_MSG: i32 = 111;
    pub const ZMQ_PRIORITY: i32 = 112;
    pub const ZMQ_RECONNECT_STOP_CONN_REFUSED: i32 = 0x1;
    pub const ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED: i32 = 0x2;
    pub const ZMQ_RECONNECT_STOP_AFTER_DISCONNECT: i32 = 0x3;
    pub const ZMQ_ZERO_COPY_RECV: i32 = 10;
    pub const ZMQ_MSG_PROPERTY_ROUTING_ID: &str = "Routing-Id";
    pub const ZMQ_MSG_PROPERTY_SOCKET_TYPE: &str = "Socket-Type";
    pub const ZMQ_MSG_PROPERTY_USER_ID: &str = "User-Id";
    pub const ZMQ_MSG_PROPERTY_PEER_ADDRESS: &str = "Peer-Address";
    pub const ZMQ_NOTIFY_CONNECT: i32 = 1;
    pub const ZMQ_NOTIFY_DISCONNECT: i32 = 2;
    pub const ZMQ_EVENT_PIPES_STATS: i32 = 0x10000;
    pub const ZMQ_CURRENT_EVENT_VERSION: i32 = 1;
    pub const ZMQ_CURRENT_EVENT_VERSION_DRAFT: i32 = 2;
    pub const ZMQ_EVENT_ALL_V1: i32 = ZMQ_EVENT_ALL;
    pub const ZMQ_EVENT_ALL_V2: i32 = ZMQ_EVENT_ALL_V1 | ZMQ_EVENT_PIPES_STATS;
}

pub const ZMQ_VERSION_MAJOR: i32 = 4;
pub const ZMQ_VERSION_MINOR: i32 = 3;
pub const ZMQ_VERSION_PATCH: i32 = 5;
pub const ZMQ_HAS_CAPABILITIES: i32 = 1;

// ---- libzmq-rs extensions: the 2.x options libzmq 3 removed, on the 4.x ABI ----

/// 2.x high-water mark: sets `ZMQ_SNDHWM` and `ZMQ_RCVHWM` together; reads back the send HWM.
pub const ZMQ_HWM: i32 = 1;
/// 2.x swap-to-disk budget in bytes per outbound pipe (int64, 0 = off).
pub const ZMQ_SWAP: i32 = 3;
/// Directory for `ZMQ_SWAP` files (string; default `$TMPDIR`, else `/tmp`).
pub const ZMQ_SWAP_DIR: i32 = 1001;
/// Keep a named peer's pipe across disconnects on the accepting side (int, 0/1; always on for
/// PUB and XPUB).
pub const ZMQ_DURABLE: i32 = 1002;
/// How long a detached durable peer's pipe is kept, in ms (int, -1 = until the socket closes).
pub const ZMQ_DURABLE_IVL: i32 = 1003;

/// Monitor mask bit selecting every libzmq-rs extension event. It lies outside
/// `ZMQ_EVENT_ALL`, so programs written for libzmq never see these events unless they ask.
/// The events themselves are numbered 0x8001-0x8006 in the 16-bit event field (the one bit
/// libzmq leaves free marks them).
pub const ZMQ_EVENT_EXTENSIONS: i32 = 0x4000_0000;
/// A durable peer disconnected; its pipe keeps queuing (value 0).
pub const ZMQ_EVENT_DURABLE_DETACHED: i32 = 0x8001;
/// A durable peer came back and took its pipe over (value 0).
pub const ZMQ_EVENT_DURABLE_REATTACHED: i32 = 0x8002;
/// A pipe started spilling to its swap file (value 0).
pub const ZMQ_EVENT_SWAP_STARTED: i32 = 0x8003;
/// A pipe's swap file drained; the queue is back in memory (value 0).
pub const ZMQ_EVENT_SWAP_STOPPED: i32 = 0x8004;
/// A pipe's swap budget is used up; the HWM policy applies (value 0).
pub const ZMQ_EVENT_SWAP_FULL: i32 = 0x8005;
/// A swap file failed; the pipe fell back to the HWM policy (value: errno).
pub const ZMQ_EVENT_SWAP_ERROR: i32 = 0x8006;
