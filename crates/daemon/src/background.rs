//! Work that must not compete with requests: loading, compiling and
//! installing a ruleset, and freeing the one it replaced.
//!
//! flagd serves from few request threads on few cores. A load of 10,000 flags
//! takes a core for hundreds of milliseconds, and freeing the old ruleset
//! (every flag, rule and counter handle) takes milliseconds more; done on a
//! request thread or at the request threads' priority, either shows up in the
//! tail latency of every request in flight (docs/performance.md, "10,000 flags:
//! memory and swaps under load"). So loads run on a thread of their own at a
//! lower priority ([`run_low`]), and replaced rulesets go to one dropper
//! thread, also at a lower priority, which frees each once the last request
//! using it has let go ([`retire`]).

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

/// How much nicer than the request threads background threads are (Linux
/// nice levels: 10 gives a busy request thread about ten times the CPU).
pub const NICE: i32 = 10;

/// How often the dropper looks again at a value still in use.
const RECHECK: Duration = Duration::from_millis(2);

/// The background thread ended without an answer (it panicked).
#[derive(Debug, thiserror::Error)]
#[error("background task `{0}` failed")]
pub struct TaskFailed(pub &'static str);

/// Runs `work` on a new thread named `name` at a lower priority and waits
/// for its result without blocking the async runtime.
pub async fn run_low<T, F>(name: &'static str, work: F) -> Result<T, TaskFailed>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            lower_priority();
            let _ = tx.send(work());
        })
        .map_err(|_| TaskFailed(name))?;
    rx.await.map_err(|_| TaskFailed(name))
}

/// Lowers the calling thread's scheduling priority by [`NICE`]. Best
/// effort: where it cannot, the thread runs at normal priority.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread's own id; on Linux
    // `PRIO_PROCESS` with a thread id sets that thread's nice value.
    unsafe {
        let tid = libc::gettid();
        let now = libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t);
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, now + NICE);
    }
}

/// Gives the memory freed since the last call back to the operating
/// system. glibc's allocator keeps freed memory for reuse: after a load of
/// 10,000 flags (whose document trees and model briefly take a few times
/// the compiled ruleset), the process would stay at that peak for good.
/// A no-op with other C libraries.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free pages of glibc's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What the dropper holds: anything shared.
type Retired = Arc<dyn std::any::Any + Send + Sync>;

/// Hands `value` to the dropper thread, which frees it once it holds the
/// last reference (requests still using it keep it alive until they end).
/// Retire the parts too (a ruleset inside served state) to have them freed
/// there as well whichever is let go of last.
pub fn retire(value: Retired) {
    if let Err(std::sync::mpsc::SendError(value)) = dropper().send(value) {
        // No dropper thread (it could not be started): free it here.
        drop(value);
    }
}

fn dropper() -> &'static Sender<Retired> {
    static DROPPER: OnceLock<Sender<Retired>> = OnceLock::new();
    DROPPER.get_or_init(|| {
        let (tx, rx) = channel();
        // If the thread cannot start, the receiver goes with its closure:
        // sends then fail and `retire` drops in place.
        let _ = std::thread::Builder::new()
            .name("flagd-dropper".into())
            .spawn(move || {
                lower_priority();
                drop_loop(&rx);
            });
        tx
    })
}

/// Frees what arrives, each once nobody else holds it: with a strong
/// count of 1 nobody can clone it any more, so dropping it here frees it.
fn drop_loop(rx: &Receiver<Retired>) {
    let mut waiting: Vec<Retired> = Vec::new();
    loop {
        let next = if waiting.is_empty() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(RECHECK)
        };
        match next {
            Ok(value) => waiting.push(value),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) if waiting.is_empty() => return,
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(RECHECK),
        }
        // In arrival order, so a part retired after its whole is looked
        // at after the whole let go of it.
        let before = waiting.len();
        waiting.retain(|value| Arc::strong_count(value) > 1);
        if waiting.len() < before {
            release_free_memory();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Sender;

    /// Reports the name of the thread that drops it.
    struct DropProbe(Sender<String>);

    impl Drop for DropProbe {
        fn drop(&mut self) {
            let name = std::thread::current().name().unwrap_or("").to_owned();
            let _ = self.0.send(name);
        }
    }

    #[test]
    fn the_dropper_frees_a_value_once_its_last_user_lets_go() {
        let (tx, rx) = channel();
        let value = Arc::new(DropProbe(tx));
        let in_use = value.clone();
        retire(value);
        // A request still holds it: nothing may be freed yet.
        assert!(rx.recv_timeout(RECHECK * 5).is_err());
        drop(in_use);
        let freed_by = rx.recv_timeout(Duration::from_secs(10)).expect("freed");
        assert_eq!(freed_by, "flagd-dropper");
    }

    #[test]
    fn parts_retired_with_their_whole_are_freed_after_it() {
        let (tx, rx) = channel();
        let part = Arc::new(DropProbe(tx));
        let whole = Arc::new(vec![part.clone()]);
        retire(whole);
        retire(part);
        let freed_by = rx.recv_timeout(Duration::from_secs(10)).expect("freed");
        assert_eq!(freed_by, "flagd-dropper");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn background_work_runs_at_a_lower_priority() {
        // SAFETY: reads the calling thread's own nice value.
        let nice =
            || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let ours = nice();
        let (theirs, name) = run_low("flagd-test", move || {
            (nice(), std::thread::current().name().map(str::to_owned))
        })
        .await
        .unwrap();
        // At most 19; a process already at 19 cannot go lower.
        assert_eq!(theirs, (ours + NICE).min(19));
        assert_eq!(name.as_deref(), Some("flagd-test"));
    }

    #[tokio::test]
    async fn a_task_that_panics_is_an_error_not_a_hang() {
        let failed = run_low("flagd-test", || -> u32 { panic!("boom") }).await;
        assert_eq!(
            failed.unwrap_err().to_string(),
            "background task `flagd-test` failed"
        );
    }
}
