//! Per-thread OS settings for threads the library starts.

/// Blocks every signal in the calling thread, as libzmq does in the threads it starts, so that
/// signals are delivered to the application's own threads instead.
pub(crate) fn block_all_signals() {
    // SAFETY: sigset_t is plain data that sigfillset initialises fully before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid, exclusively borrowed sigset_t.
    unsafe { libc::sigfillset(&mut set) };
    // SAFETY: set is initialised; a NULL old-set pointer is allowed. Only the calling thread's
    // mask changes, and with valid arguments pthread_sigmask cannot fail.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_signals_in_this_thread_only() {
        std::thread::spawn(|| {
            block_all_signals();
            // SAFETY: plain data, filled in by pthread_sigmask below.
            let mut current: libc::sigset_t = unsafe { std::mem::zeroed() };
            // SAFETY: a NULL new-set pointer only queries the mask into `current`.
            unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut current) };
            // SAFETY: current is an initialised sigset_t.
            assert_eq!(unsafe { libc::sigismember(&current, libc::SIGINT) }, 1);
        })
        .join()
        .unwrap();
    }
}
