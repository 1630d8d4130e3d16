//! Per-thread OS settings for threads the library starts: signal masks and the scheduling
//! the context's `ZMQ_THREAD_*` options ask for.

use std::collections::BTreeSet;

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

/// How the context's I/O threads are scheduled (`ZMQ_THREAD_SCHED_POLICY`,
/// `ZMQ_THREAD_PRIORITY`, `ZMQ_THREAD_AFFINITY_CPU_ADD`/`_REMOVE`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ThreadSettings {
    /// The policy asked for; unset means `SCHED_BATCH` (see [`apply_settings`]).
    pub(crate) policy: Option<i32>,
    /// The priority asked for: the static priority under `SCHED_FIFO`/`SCHED_RR`, otherwise a
    /// request for the highest one, nice -20 (as libzmq reads it).
    pub(crate) priority: Option<i32>,
    /// The CPUs the threads may run on; empty = no affinity is set.
    pub(crate) cpus: BTreeSet<usize>,
}

/// Applies `s` to the calling thread, best effort: a setting the OS refuses (a real-time
/// policy or a negative nice value without the privilege, a CPU that does not exist) leaves
/// the thread as it was, where libzmq would abort.
///
/// Without a policy from the application, I/O threads run under `SCHED_BATCH`: same share of
/// the CPU and same nice value as `SCHED_OTHER`, but a thread that wakes does not preempt the
/// one running. A producer that hands a stream of messages to its I/O thread then keeps its
/// core until it blocks, instead of being preempted after every few messages by the thread
/// it woke (measured in BENCHMARKS.md); an idle core still runs a woken I/O thread at once.
pub(crate) fn apply_settings(s: &ThreadSettings) {
    let policy = s.policy.unwrap_or(libc::SCHED_BATCH);
    let realtime = policy == libc::SCHED_FIFO || policy == libc::SCHED_RR;
    let sched_priority = match s.priority {
        Some(p) if realtime => p,
        _ => 0,
    };
    let param = libc::sched_param { sched_priority };
    // SAFETY: param is a valid sched_param; pid 0 is the calling thread; the kernel checks
    // the values and fails with EINVAL or EPERM, which leaves the thread unchanged.
    unsafe { libc::sched_setscheduler(0, policy, &param) };
    if s.priority.is_some() && !realtime {
        // SAFETY: plain syscall; on Linux PRIO_PROCESS with who 0 names the calling thread.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -20) };
    }
    if !s.cpus.is_empty() {
        // SAFETY: cpu_set_t is plain data; all zeroes is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
        for &cpu in s.cpus.iter().filter(|&&c| c < max) {
            // SAFETY: cpu is below the number of bits in the set.
            unsafe { libc::CPU_SET(cpu, &mut set) };
        }
        // SAFETY: set is initialised and its size is passed; pid 0 is the calling thread.
        unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's scheduling policy.
    fn policy() -> i32 {
        // SAFETY: plain syscall on the calling thread.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[test]
    fn default_settings_mean_batch_and_explicit_policy_wins() {
        std::thread::spawn(|| {
            apply_settings(&ThreadSettings::default());
            assert_eq!(policy(), libc::SCHED_BATCH);
            apply_settings(&ThreadSettings {
                policy: Some(libc::SCHED_IDLE),
                ..ThreadSettings::default()
            });
            assert_eq!(policy(), libc::SCHED_IDLE);
        })
        .join()
        .unwrap();
        assert_eq!(
            policy(),
            libc::SCHED_OTHER,
            "only the calling thread changes"
        );
    }

    #[test]
    fn affinity_restricts_the_thread_to_the_listed_cpus() {
        std::thread::spawn(|| {
            apply_settings(&ThreadSettings {
                cpus: BTreeSet::from([0]),
                ..ThreadSettings::default()
            });
            // SAFETY: plain data, filled in by sched_getaffinity.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: set is valid for its size; pid 0 is the calling thread.
            let rc = unsafe {
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set)
            };
            assert_eq!(rc, 0);
            // SAFETY: set was filled in by the kernel.
            let count = unsafe { libc::CPU_COUNT(&set) };
            // SAFETY: bit 0 is inside the set.
            let has0 = unsafe { libc::CPU_ISSET(0, &set) };
            assert_eq!(count, 1);
            assert!(has0);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn refused_settings_leave_the_thread_running() {
        std::thread::spawn(|| {
            // Priority 0 is invalid under SCHED_FIFO (and unprivileged callers may not use
            // it at all): the call fails and the thread keeps its policy.
            apply_settings(&ThreadSettings {
                policy: Some(libc::SCHED_FIFO),
                priority: Some(0),
                cpus: BTreeSet::from([100_000]),
            });
            assert_eq!(policy(), libc::SCHED_OTHER);
        })
        .join()
        .unwrap();
    }

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
