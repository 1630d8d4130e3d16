//! The routing ids of connections that closed with messages still unread: ROUTER and STREAM
//! keep giving those messages with their sender's id (as libzmq, where a pipe keeps its id until
//! drained), while nothing can be sent to the id any more.
#![forbid(unsafe_code)]

use bytes::Bytes;

use crate::pipe::{PipeEnd, PipeId};
use crate::util::id_map::IdMap;

/// Closed pipes still holding messages, with their routing ids.
#[derive(Default)]
pub(crate) struct ClosingIds(IdMap<PipeId, (PipeEnd, Bytes)>);

impl ClosingIds {
    /// Keeps `rid` for `end`, whose peer closed, if messages are still waiting in it.
    pub(crate) fn keep_if_unread(&mut self, end: PipeEnd, rid: Bytes) {
        if end.check_read() {
            self.0.insert(end.id(), (end, rid));
        }
    }

    /// The routing id kept for the closed pipe `pipe`.
    pub(crate) fn id(&self, pipe: PipeId) -> Option<&Bytes> {
        self.0.get(&pipe).map(|(_, rid)| rid)
    }

    /// Forgets `pipe`'s id once its last message has been read.
    pub(crate) fn reap(&mut self, pipe: PipeId) {
        if self.0.get(&pipe).is_some_and(|(end, _)| !end.check_read()) {
            self.0.remove(&pipe);
        }
    }

    /// True when no closed pipe's id is kept.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
