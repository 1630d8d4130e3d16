//! `ZMQ_IPC_FILTER_PID` / `_UID` / `_GID` (deprecated in libzmq 4.3, still documented): the
//! process, user and group ids an ipc listener accepts peers from.
//!
//! With no filter set every peer is accepted. Otherwise a peer is accepted when its process id,
//! user id or primary group id (the kernel's `SO_PEERCRED`) is in the matching list, or when its
//! user is listed as a member of one of the filtered groups (the group database), as libzmq
//! checks.
#![forbid(unsafe_code)]

use crate::consts::{ZMQ_IPC_FILTER_GID, ZMQ_IPC_FILTER_PID, ZMQ_IPC_FILTER_UID};
use crate::error::{Error, Result};

/// The credentials the kernel reports for a unix socket's peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PeerCred {
    pub(crate) pid: i32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// The three filter lists of a socket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct IpcFilters {
    pids: Vec<i32>,
    uids: Vec<u32>,
    gids: Vec<u32>,
}

impl IpcFilters {
    /// True for the three options this handles.
    pub(crate) fn handles(option: i32) -> bool {
        matches!(
            option,
            ZMQ_IPC_FILTER_PID | ZMQ_IPC_FILTER_UID | ZMQ_IPC_FILTER_GID
        )
    }

    /// `zmq_setsockopt`: a 4-byte id adds to the option's list, a NULL value of length 0
    /// (`None`) clears it; anything else (a non-NULL empty value included) is EINVAL.
    pub(crate) fn set(&mut self, option: i32, value: Option<&[u8]>) -> Result<()> {
        let id = match value {
            None => None,
            Some(v) => Some(<[u8; 4]>::try_from(v).map_err(|_| Error::Invalid)?),
        };
        match option {
            ZMQ_IPC_FILTER_PID => update(&mut self.pids, id.map(i32::from_ne_bytes)),
            ZMQ_IPC_FILTER_UID => update(&mut self.uids, id.map(u32::from_ne_bytes)),
            ZMQ_IPC_FILTER_GID => update(&mut self.gids, id.map(u32::from_ne_bytes)),
            _ => return Err(Error::Invalid),
        }
        Ok(())
    }

    /// True when no filter is set (every peer is accepted).
    pub(crate) fn is_empty(&self) -> bool {
        self.pids.is_empty() && self.uids.is_empty() && self.gids.is_empty()
    }

    /// Whether a peer with `cred` is accepted; `in_group(gid, uid)` answers whether the user
    /// is listed as a member of the group (asked only when the ids alone do not match).
    pub(crate) fn admits(&self, cred: PeerCred, in_group: impl Fn(u32, u32) -> bool) -> bool {
        self.is_empty()
            || self.pids.contains(&cred.pid)
            || self.uids.contains(&cred.uid)
            || self.gids.contains(&cred.gid)
            || self.gids.iter().any(|&gid| in_group(gid, cred.uid))
    }
}

/// Adds `id` to `list` (once), or clears the list for `None`.
fn update<T: PartialEq>(list: &mut Vec<T>, id: Option<T>) {
    match id {
        None => list.clear(),
        Some(id) if !list.contains(&id) => list.push(id),
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: PeerCred = PeerCred {
        pid: 4242,
        uid: 1000,
        gid: 100,
    };

    fn never(_: u32, _: u32) -> bool {
        false
    }

    #[test]
    fn no_filter_admits_everyone_and_any_matching_list_admits() {
        let mut f = IpcFilters::default();
        assert!(f.admits(ME, never));
        f.set(ZMQ_IPC_FILTER_UID, Some(&1001u32.to_ne_bytes()))
            .unwrap();
        assert!(!f.admits(ME, never), "another user only");
        f.set(ZMQ_IPC_FILTER_PID, Some(&4242i32.to_ne_bytes()))
            .unwrap();
        assert!(f.admits(ME, never), "the pid matches");
        f.set(ZMQ_IPC_FILTER_PID, None).unwrap();
        assert!(
            !f.admits(ME, never),
            "the pid list cleared, the uid one kept"
        );
        f.set(ZMQ_IPC_FILTER_GID, Some(&100u32.to_ne_bytes()))
            .unwrap();
        assert!(f.admits(ME, never), "the primary group matches");
    }

    #[test]
    fn a_group_admits_its_listed_members() {
        let mut f = IpcFilters::default();
        f.set(ZMQ_IPC_FILTER_GID, Some(&7u32.to_ne_bytes()))
            .unwrap();
        assert!(!f.admits(ME, never));
        assert!(f.admits(ME, |gid, uid| gid == 7 && uid == 1000));
        assert!(
            !f.admits(ME, |gid, _| gid == 8),
            "member of another group only"
        );
    }

    #[test]
    fn values_must_be_four_bytes_or_a_null_clear() {
        let mut f = IpcFilters::default();
        assert_eq!(f.set(ZMQ_IPC_FILTER_UID, Some(&[])), Err(Error::Invalid));
        assert_eq!(
            f.set(ZMQ_IPC_FILTER_UID, Some(&1u64.to_ne_bytes())),
            Err(Error::Invalid)
        );
        assert!(f.is_empty());
        f.set(ZMQ_IPC_FILTER_GID, Some(&1u32.to_ne_bytes()))
            .unwrap();
        f.set(ZMQ_IPC_FILTER_GID, Some(&1u32.to_ne_bytes()))
            .unwrap();
        assert_eq!(f.gids, vec![1], "an id is kept once");
        f.set(ZMQ_IPC_FILTER_GID, None).unwrap();
        assert!(f.is_empty());
    }
}
