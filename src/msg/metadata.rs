//! Peer properties attached to received messages (`zmq_msg_gets`) and the draft group name.
//!
//! Layer L0. Engines build one `Metadata` per connection (READY properties, ZAP User-Id,
//! Peer-Address) and every frame from that peer shares it through a [`super::Props`].
#![forbid(unsafe_code)]

use std::ffi::{CStr, CString};
use std::sync::Arc;

/// Name/value properties plus the draft group; values are NUL-terminated for the C API.
/// Cloning shares the properties (one allocation, no string copies). Aligned to a cache line
/// so that the count in front of it (see [`super::Props`]), which the socket's thread
/// decrements per frame, shares no line with the properties or another allocation.
#[derive(Clone, Default, Debug)]
#[repr(align(64))]
pub(crate) struct Metadata {
    props: Arc<Vec<(String, CString)>>,
    group: Option<CString>,
    /// The tcp/ipc socket the frames were read from (`ZMQ_SRCFD`).
    source_fd: Option<i32>,
}

impl Metadata {
    /// Properties from `(name, value)` pairs; values with an interior NUL are cut there.
    pub(crate) fn from_pairs<I, N, V>(pairs: I) -> Metadata
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<String>,
        V: AsRef<[u8]>,
    {
        let props = pairs
            .into_iter()
            .map(|(n, v)| {
                let v = v.as_ref();
                let cut = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                let value = CString::new(&v[..cut]).unwrap_or_default();
                (n.into(), value)
            })
            .collect();
        Metadata {
            props: Arc::new(props),
            group: None,
            source_fd: None,
        }
    }

    /// The value of property `name`. `Identity` (the property ZMTP peers announce their
    /// routing id in) falls back to `Routing-Id`, libzmq's newer name, as libzmq does.
    /// Names compare case-insensitively, as ZMTP property names do.
    pub(crate) fn get(&self, name: &str) -> Option<&CStr> {
        let find = |name: &str| {
            self.props
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_c_str())
        };
        find(name).or_else(|| {
            name.eq_ignore_ascii_case("Identity")
                .then(|| find("Routing-Id"))
                .flatten()
        })
    }

    /// Adds (or replaces) a property.
    pub(crate) fn insert(&mut self, name: &str, value: &[u8]) {
        let cut = value.iter().position(|&b| b == 0).unwrap_or(value.len());
        let value = CString::new(&value[..cut]).unwrap_or_default();
        match Arc::make_mut(&mut self.props)
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => Arc::make_mut(&mut self.props).push((name.to_owned(), value)),
        }
    }

    /// The file descriptor of the connection the frames came from, if they came over one.
    pub(crate) fn source_fd(&self) -> Option<i32> {
        self.source_fd
    }

    /// Records the connection's file descriptor (see [`Self::source_fd`]).
    pub(crate) fn set_source_fd(&mut self, fd: i32) {
        self.source_fd = Some(fd);
    }

    pub(super) fn group(&self) -> &CStr {
        self.group.as_deref().unwrap_or(c"")
    }

    pub(super) fn set_group(&mut self, group: &CStr) {
        self.group = Some(group.to_owned());
    }

    /// The shared property list (tests watch its count to see the properties freed).
    #[cfg(test)]
    pub(super) fn props_handle(&self) -> &Arc<Vec<(String, CString)>> {
        &self.props
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_knows_identity_alias() {
        let m = Metadata::from_pairs([("Socket-Type", "DEALER"), ("Routing-Id", "abc")]);
        assert_eq!(m.get("socket-type"), Some(c"DEALER"));
        assert_eq!(m.get("Identity"), Some(c"abc"));
        assert_eq!(m.get("User-Id"), None);
    }

    #[test]
    fn identity_announced_in_ready_is_found() {
        // A ZMTP peer announces its routing id as the READY property `Identity`.
        let m = Metadata::from_pairs([("Socket-Type", "DEALER"), ("Identity", "dealer-A")]);
        assert_eq!(m.get("Identity"), Some(c"dealer-A"));
        assert_eq!(m.get("Routing-Id"), None);
    }

    #[test]
    fn the_source_fd_is_unset_until_recorded_and_shared_by_clones() {
        let mut m = Metadata::from_pairs([("Socket-Type", "PUSH")]);
        assert_eq!(m.source_fd(), None);
        m.set_source_fd(7);
        assert_eq!(m.clone().source_fd(), Some(7));
    }

    #[test]
    fn values_with_nul_are_cut() {
        let m = Metadata::from_pairs([("X", b"ab\0cd".as_slice())]);
        assert_eq!(m.get("X"), Some(c"ab"));
    }
}
