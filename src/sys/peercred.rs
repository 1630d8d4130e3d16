//! A unix socket peer's credentials (`SO_PEERCRED`) and the group database lookup the ipc
//! filters need: is a user listed as a member of a group.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use crate::options::PeerCred;

/// The process, user and group id the kernel recorded (`SO_PEERCRED`) for the peer of a
/// connected unix socket; an error when it has none for `fd`.
pub(crate) fn peer_credentials(fd: BorrowedFd<'_>) -> io::Result<PeerCred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let size = std::mem::size_of::<libc::ucred>();
    let mut len = size as libc::socklen_t;
    // SAFETY: fd is a live descriptor for the borrow's duration; cred is a valid, exclusively
    // borrowed out-buffer of len bytes, and len a valid in/out length.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    if len as usize != size {
        return Err(io::Error::from(io::ErrorKind::InvalidData));
    }
    Ok(PeerCred {
        pid: cred.pid,
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// Buffer for one passwd or group record's strings; grown on ERANGE up to [`MAX_RECORD`].
const FIRST_RECORD: usize = 1024;
const MAX_RECORD: usize = 1 << 20;

/// Whether the group database lists the user `uid` (by its name) as a member of group `gid`.
/// False when either is unknown or a lookup fails.
pub(crate) fn user_listed_in_group(uid: u32, gid: u32) -> bool {
    let Some(name) = user_name(uid) else {
        return false;
    };
    group_lists(gid, &name)
}

/// Calls `lookup` with a zeroed buffer for a record's strings, twice as large each time it
/// answers ERANGE (up to [`MAX_RECORD`]); `lookup` answers `Err(errno)` or what it found.
fn with_record_buffer<T>(
    mut lookup: impl FnMut(&mut [libc::c_char]) -> Result<Option<T>, libc::c_int>,
) -> Option<T> {
    let mut size = FIRST_RECORD;
    while size <= MAX_RECORD {
        let mut buf = vec![0 as libc::c_char; size];
        match lookup(&mut buf) {
            Err(libc::ERANGE) => size *= 2,
            Err(_) => return None,
            Ok(found) => return found,
        }
    }
    None
}

/// The user name of `uid`, from `getpwuid_r`.
fn user_name(uid: u32) -> Option<Vec<u8>> {
    with_record_buffer(|buf| {
        // SAFETY: passwd is plain data; getpwuid_r fills it in.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is to a live local or to buf, of the sizes passed; the
        // strings it sets in pwd point into buf, which outlives their use below.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &raw mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &raw mut found,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        if found.is_null() || pwd.pw_name.is_null() {
            return Ok(None);
        }
        // SAFETY: pw_name is a NUL-terminated string inside buf, still alive.
        Ok(Some(
            unsafe { CStr::from_ptr(pwd.pw_name) }.to_bytes().to_vec(),
        ))
    })
}

/// Whether group `gid`'s member list (from `getgrgid_r`) names `user`.
fn group_lists(gid: u32, user: &[u8]) -> bool {
    with_record_buffer(|buf| {
        // SAFETY: group is plain data; getgrgid_r fills it in.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is to a live local or to buf, of the sizes passed; the member
        // list it sets points into buf, which outlives the walk below.
        let rc = unsafe {
            libc::getgrgid_r(
                gid,
                &raw mut grp,
                buf.as_mut_ptr(),
                buf.len(),
                &raw mut found,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        if found.is_null() || grp.gr_mem.is_null() {
            return Ok(None);
        }
        let mut member = grp.gr_mem;
        loop {
            // SAFETY: gr_mem is a NULL-terminated array of pointers inside buf; member never
            // goes past its terminator (the loop stops there).
            let name = unsafe { *member };
            if name.is_null() {
                return Ok(Some(false));
            }
            // SAFETY: each entry is a NUL-terminated string inside buf.
            if unsafe { CStr::from_ptr(name) }.to_bytes() == user {
                return Ok(Some(true));
            }
            // SAFETY: the entry just read was not the terminator, so the next one exists.
            member = unsafe { member.add(1) };
        }
    })
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn a_socketpair_peer_is_this_process() {
        let (a, _b) = UnixStream::pair().unwrap();
        let cred = peer_credentials(a.as_fd()).unwrap();
        assert_eq!(cred.pid, std::process::id() as i32);
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        // SAFETY: getgid has no preconditions.
        let gid = unsafe { libc::getgid() };
        assert_eq!((cred.uid, cred.gid), (uid, gid));
    }

    #[test]
    fn a_plain_file_has_no_peer() {
        let f = std::fs::File::open("/dev/null").unwrap();
        assert!(peer_credentials(f.as_fd()).is_err());
    }

    #[test]
    fn group_membership_follows_the_group_database() {
        // root is named "root" on every system we build on; no group lists a user that does
        // not exist, and a group id nobody has is unknown.
        assert_eq!(user_name(0).as_deref(), Some(&b"root"[..]));
        assert!(!user_listed_in_group(u32::MAX - 1, 0));
        assert!(!group_lists(u32::MAX - 1, b"root"));
        // Whatever /etc/group says about its first listed member must be what we answer.
        let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
        let listed = groups.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let member = f.get(3)?.split(',').find(|m| !m.is_empty())?;
            Some((f.get(2)?.parse::<u32>().ok()?, member.to_owned()))
        });
        if let Some((gid, member)) = listed {
            assert!(group_lists(gid, member.as_bytes()), "{member} in {gid}");
            assert!(!group_lists(gid, b"no-such-user-here"));
        }
    }
}
