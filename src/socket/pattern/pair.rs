//! PAIR: exactly one peer; a second connection is refused.
#![forbid(unsafe_code)]

use bytes::Bytes;

use super::Pattern;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::pipe::{PipeEnd, PipeId, ReadState, Refused};

/// The PAIR socket type.
#[derive(Default)]
pub(crate) struct Pair {
    pipe: Option<PipeEnd>,
    writable: bool,
}

impl Pattern for Pair {
    fn attach(&mut self, pipe: PipeEnd, _assigned_id: Option<Bytes>) {
        if self.pipe.is_some() {
            pipe.close();
            return;
        }
        self.pipe = Some(pipe);
        self.writable = true;
    }

    fn read_activated(&mut self, _id: PipeId) {}

    fn write_activated(&mut self, id: PipeId) {
        if self.pipe.as_ref().is_some_and(|p| p.id() == id) {
            self.writable = true;
        }
    }

    fn terminated(&mut self, id: PipeId) {
        if let Some(p) = &self.pipe
            && p.id() == id
            && !p.check_read()
        {
            self.pipe = None;
        }
    }

    fn send(&mut self, msg: &mut Msg) -> Result<()> {
        let Some(pipe) = &self.pipe else {
            return Err(Error::Again);
        };
        match pipe.write_from(msg) {
            Ok(()) => Ok(()),
            Err(Refused::Full) => {
                self.writable = false;
                Err(Error::Again)
            }
            Err(Refused::Closed) => {
                self.pipe = None;
                Err(Error::Again)
            }
        }
    }

    fn recv(&mut self, out: &mut Msg) -> Result<()> {
        let Some(pipe) = &self.pipe else {
            return Err(Error::Again);
        };
        match pipe.read_into(out) {
            ReadState::Frame => Ok(()),
            ReadState::Empty => Err(Error::Again),
            ReadState::Closed => {
                self.pipe = None;
                Err(Error::Again)
            }
        }
    }

    fn has_in(&mut self) -> bool {
        self.pipe.as_ref().is_some_and(|p| p.check_read())
    }

    fn has_out(&mut self) -> bool {
        self.pipe.as_ref().is_some_and(|p| p.check_write())
    }
}
