//! adroit's product threads (feature `parallel`): the threads that run the blocks of a split
//! product beside the calling thread. Each takes its block from a mailbox of its own (an
//! atomic job number; no queue, no lock on the way), and waits for the next spinning for
//! [`SPIN`], then asleep until the caller wakes it.
//!
//! Measured on the 2-vCPU Intel VM (`BENCHMARKS.md` §X.9), the 784-512-512-10 MLP step: 2.25–2.40
//! ms on these threads against 2.45–2.62 ms on a rayon pool of product threads (whose idle threads
//! go through a few dozen `sched_yield` calls before they sleep, and whose jobs pass through its
//! queues and latches). The spin barely matters at 0–100 µs; at 1 ms the step took 2.87–2.94 ms: a
//! spinning thread slows the calling thread's own work on this VM, whose two vCPUs share a core's
//! resources (§X.8).
//!
//! One caller at a time: a product split while another thread's product holds the threads
//! runs all its blocks on its own thread instead of waiting (so threads that multiply at the
//! same time never wait for each other). A panic in a block reaches the caller after every
//! block has returned. A child process made by `fork` (which has none of the threads) runs
//! every block on the caller, where blocks sent to the missing threads would wait for ever.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a product thread spins for its next block before it sleeps (about what waking a
/// sleeping thread costs).
pub(super) const SPIN: Duration = Duration::from_micros(20);

/// Spins between two readings of the clock.
const SPINS_PER_CHECK: u32 = 256;

/// A block to run: the caller's block function (its lifetime erased: the caller waits until
/// the block has returned) and the block's index.
type Job = (*const (dyn Fn(usize) + Sync + 'static), usize);

/// One product thread's mailbox.
struct Slot {
    /// The number of the last job posted to the thread (0: none yet).
    posted: AtomicUsize,
    /// The number of the last job the thread finished.
    done: AtomicUsize,
    /// The job of number `posted`: written by the caller before it stores `posted`, read by
    /// the thread after it loads it; not written again before `done` reaches it.
    job: UnsafeCell<Option<Job>>,
    /// A panic of the last job, for the caller to resume.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// Whether the thread is (about to be) parked: the caller then unparks it.
    sleeping: AtomicBool,
}

// SAFETY: `job` is written only by the caller holding `Pool::busy`, before it publishes the
// job's number in `posted` (SeqCst, a release), and read by the slot's thread only after it has
// loaded that number (SeqCst/acquire), which it does before it stores `done`; the caller writes
// `job` again only after it has loaded `done` equal to the number (acquire). The block behind
// the pointer is `Sync`, and the caller keeps it alive until `done` (see `run`).
unsafe impl Sync for Slot {}

/// The product threads and their mailboxes.
pub(super) struct Pool {
    slots: &'static [Slot],
    threads: Vec<Thread>,
    /// Held by the caller whose blocks the threads run.
    busy: AtomicBool,
    /// The number of the last job posted (changed only by the holder of `busy`).
    last: AtomicUsize,
    /// The process that started the threads: a child made by `fork` has none of them.
    process: u32,
}

impl Pool {
    /// `helpers` threads, started now; `None` if none could be.
    pub(super) fn start(helpers: usize) -> Option<Self> {
        let slots: &'static [Slot] = Box::leak(
            (0..helpers)
                .map(|_| Slot {
                    posted: AtomicUsize::new(0),
                    done: AtomicUsize::new(0),
                    job: UnsafeCell::new(None),
                    panic: Mutex::new(None),
                    sleeping: AtomicBool::new(false),
                })
                .collect(),
        );
        let mut threads = Vec::with_capacity(helpers);
        for (i, slot) in slots.iter().enumerate() {
            let spawned = std::thread::Builder::new()
                .name(format!("adroit-product-{i}"))
                .spawn(move || work(slot));
            match spawned {
                Ok(handle) => threads.push(handle.thread().clone()),
                Err(_) => break,
            }
        }
        (!threads.is_empty()).then(|| Self {
            slots: &slots[..threads.len()],
            threads,
            busy: AtomicBool::new(false),
            last: AtomicUsize::new(0),
            process: std::process::id(),
        })
    }

    /// Calls `block(p)` for every `p` in `0..parts` and returns when all have: `p = 0` on
    /// this thread, the next ones on the product threads (one each) when they are free, the
    /// rest (or all, when another caller holds the threads, or in a child process made by
    /// `fork`, which has none of the threads) here after block 0.
    ///
    /// # Panics
    /// With a block's panic (this thread's first), after every block has returned.
    pub(super) fn run(&self, parts: usize, block: &(dyn Fn(usize) + Sync)) {
        if parts <= 1
            || std::process::id() != self.process
            || self
                .busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            (0..parts).for_each(block);
            return;
        }
        let helpers = (parts - 1).min(self.slots.len());
        let number = self.last.load(Ordering::Relaxed) + 1;
        self.last.store(number, Ordering::Relaxed);
        // SAFETY: only the lifetime is erased; `Wait` below does not let this function return
        // or unwind before every thread given the pointer has finished with it.
        let erased: *const (dyn Fn(usize) + Sync + 'static) = unsafe {
            core::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), _>(block as *const _)
        };
        let mut wait = Wait {
            pool: self,
            helpers: 0,
            number,
            settled: false,
        };
        for (i, (slot, thread)) in self
            .slots
            .iter()
            .zip(&self.threads)
            .take(helpers)
            .enumerate()
        {
            // SAFETY: this thread holds `busy`, and the slot's thread finished its last job
            // (`Wait` waited for `done`), so nothing reads `job` now (see `Slot`).
            unsafe { *slot.job.get() = Some((erased, i + 1)) };
            slot.posted.store(number, Ordering::SeqCst);
            wait.helpers = i + 1;
            if slot.sleeping.load(Ordering::SeqCst) {
                thread.unpark();
            }
        }
        block(0);
        (helpers + 1..parts).for_each(block);
        if let Some(payload) = wait.settle() {
            resume_unwind(payload);
        }
    }
}

/// The threads given job `number` (the first `helpers`): [`Wait::settle`] waits for them,
/// takes their panics and frees the pool for the next caller; dropped unsettled (this thread
/// unwinding from a block of its own), it settles and drops their panics, this thread's own
/// being the one that propagates.
struct Wait<'a> {
    pool: &'a Pool,
    helpers: usize,
    number: usize,
    settled: bool,
}

impl Wait<'_> {
    /// Waits for the threads to finish the job, takes every panic they stored (returning the
    /// first, in thread order) and only then frees the pool: a panic stored by the next
    /// caller's job can never be taken here, and none of this job's is left for a later one.
    fn settle(&mut self) -> Option<Box<dyn Any + Send>> {
        let mut first = None;
        let mut rest = Vec::new();
        for slot in &self.pool.slots[..self.helpers] {
            let mut spins = 0_u32;
            while slot.done.load(Ordering::Acquire) != self.number {
                if spins < 1 << 16 {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            let payload = slot
                .panic
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            match (&first, payload) {
                (None, payload) => first = payload,
                (Some(_), Some(payload)) => rest.push(payload),
                (Some(_), None) => {}
            }
        }
        self.settled = true;
        self.pool.busy.store(false, Ordering::Release);
        drop(rest);
        first
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if !self.settled {
            drop(self.settle());
        }
    }
}

/// A product thread: runs each job posted to `slot`, and waits for the next.
fn work(slot: &'static Slot) {
    let mut seen = 0;
    loop {
        let number = next_job(slot, seen);
        // SAFETY: job `number` was written before `posted` was stored (see `Slot`).
        if let Some((block, p)) = unsafe { *slot.job.get() } {
            // SAFETY: the caller keeps the block alive until `done` reaches `number`.
            let block = unsafe { &*block };
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| block(p))) {
                *slot.panic.lock().unwrap_or_else(PoisonError::into_inner) = Some(payload);
            }
        }
        seen = number;
        slot.done.store(number, Ordering::Release);
    }
}

/// The number of the next job posted to `slot` after `seen`: spins for [`SPIN`], then parks
/// until the caller unparks it.
fn next_job(slot: &Slot, seen: usize) -> usize {
    let mut since = Instant::now();
    loop {
        for _ in 0..SPINS_PER_CHECK {
            let number = slot.posted.load(Ordering::Acquire);
            if number != seen {
                return number;
            }
            std::hint::spin_loop();
        }
        if since.elapsed() >= SPIN {
            slot.sleeping.store(true, Ordering::SeqCst);
            // Either the caller's next `posted` is seen here, or it sees `sleeping` (both
            // SeqCst) and unparks this thread (a token `park` returns on at once).
            if slot.posted.load(Ordering::SeqCst) == seen {
                std::thread::park();
            }
            slot.sleeping.store(false, Ordering::SeqCst);
            since = Instant::now();
        }
    }
}

/// The pool of `helpers` product threads, started on first use (`None` for none).
pub(super) fn pool(helpers: usize) -> Option<&'static Pool> {
    static POOL: OnceLock<Option<Pool>> = OnceLock::new();
    POOL.get_or_init(|| (helpers > 0).then(|| Pool::start(helpers)).flatten())
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    /// A pool of its own for each test (the product threads of `pool` are shared).
    fn own_pool(helpers: usize) -> &'static Pool {
        Box::leak(Box::new(Pool::start(helpers).expect("threads start")))
    }

    /// Runs `parts` blocks that each add `1 << p` once, and returns the sum.
    fn bits(pool: &Pool, parts: usize) -> u64 {
        let sum = AtomicU64::new(0);
        pool.run(parts, &|p| {
            sum.fetch_add(1 << p, Ordering::Relaxed);
        });
        sum.into_inner()
    }

    #[test]
    fn every_block_runs_once_whether_the_threads_spin_or_sleep() {
        let pool = own_pool(2);
        for round in 0..2000_u32 {
            let parts = 1 + (round % 5) as usize;
            assert_eq!(bits(pool, parts), (1 << parts) - 1, "round {round}");
            if round % 100 == 0 {
                // Long enough for the threads to park: the next job must unpark them.
                std::thread::sleep(SPIN * 20);
            }
        }
    }

    /// The blocks of `parts` that `pool.run` ran on this thread, in order.
    fn blocks_run_here(pool: &Pool, parts: usize) -> Vec<usize> {
        let caller = std::thread::current().id();
        let here = Mutex::new(Vec::new());
        pool.run(parts, &|p| {
            if std::thread::current().id() == caller {
                here.lock().expect("no panic").push(p);
            }
        });
        let mut here = here.into_inner().expect("no panic");
        here.sort_unstable();
        here
    }

    #[test]
    fn blocks_past_the_threads_run_on_the_caller() {
        assert_eq!(blocks_run_here(own_pool(1), 4), [0, 2, 3]);
    }

    #[test]
    fn a_second_caller_runs_its_blocks_itself_while_the_threads_are_held() {
        let pool = own_pool(1);
        let (inside, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|s| {
            s.spawn(|| {
                pool.run(2, &|p| {
                    if p == 0 {
                        inside.wait();
                        release.wait();
                    }
                })
            });
            inside.wait();
            assert_eq!(blocks_run_here(pool, 3), [0, 1, 2]);
            release.wait();
        });
        assert_eq!(bits(pool, 2), 3);
    }

    #[test]
    fn many_callers_at_once_each_get_every_block() {
        let pool = own_pool(1);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..500 {
                        assert_eq!(bits(pool, 3), 7);
                    }
                });
            }
        });
    }

    #[test]
    fn a_threads_panic_reaches_the_caller_after_every_block_returned() {
        let pool = own_pool(1);
        let finished = AtomicBool::new(false);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            pool.run(2, &|p| {
                if p == 1 {
                    panic!("block one");
                }
                std::thread::sleep(SPIN * 10);
                finished.store(true, Ordering::Relaxed);
            })
        }));
        let payload = caught.expect_err("the block's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"block one"));
        assert!(finished.load(Ordering::Relaxed));
        // The pool works on, and the old panic is not raised again.
        assert_eq!(bits(pool, 2), 3);
    }

    #[test]
    fn the_callers_panic_waits_for_the_threads_blocks() {
        let pool = own_pool(1);
        let finished = AtomicBool::new(false);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            pool.run(2, &|p| match p {
                0 => panic!("block zero"),
                _ => {
                    std::thread::sleep(SPIN * 10);
                    finished.store(true, Ordering::Relaxed);
                    panic!("block one");
                }
            })
        }));
        let payload = caught.expect_err("the caller's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"block zero"));
        assert!(finished.load(Ordering::Relaxed));
        assert_eq!(bits(pool, 2), 3);
    }

    #[test]
    fn every_threads_panic_of_a_call_is_taken_by_that_call() {
        let pool = own_pool(2);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            pool.run(3, &|p| match p {
                1 => panic!("block one"),
                2 => panic!("block two"),
                _ => {}
            })
        }));
        let payload = caught.expect_err("a block's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"block one"));
        // Block two's panic is not raised by the next call (which uses both threads).
        assert_eq!(bits(pool, 3), 7);
    }

    /// Runs a product's blocks from a destructor, which runs while its thread unwinds.
    struct RunOnDrop<'a> {
        pool: &'a Pool,
        caught: &'a AtomicBool,
    }

    impl Drop for RunOnDrop<'_> {
        fn drop(&mut self) {
            let inner = catch_unwind(AssertUnwindSafe(|| {
                self.pool.run(2, &|p| {
                    if p == 1 {
                        panic!("block one");
                    }
                })
            }));
            self.caught.store(inner.is_err(), Ordering::Relaxed);
        }
    }

    #[test]
    fn a_threads_panic_reaches_a_caller_that_is_already_unwinding() {
        let pool = own_pool(1);
        let caught = AtomicBool::new(false);
        let outer = catch_unwind(AssertUnwindSafe(|| {
            let _run = RunOnDrop {
                pool,
                caught: &caught,
            };
            panic!("outer");
        }));
        assert!(outer.is_err());
        assert!(caught.load(Ordering::Relaxed), "block one's panic was lost");
        assert_eq!(bits(pool, 2), 3);
    }

    #[test]
    fn a_child_process_runs_every_block_itself() {
        let pool = own_pool(1);
        // As the pool looks from a child made by `fork` (whose thread is not there).
        let child = Pool {
            slots: pool.slots,
            threads: pool.threads.clone(),
            busy: AtomicBool::new(false),
            last: AtomicUsize::new(0),
            process: std::process::id().wrapping_add(1),
        };
        assert_eq!(blocks_run_here(&child, 2), [0, 1]);
        assert_eq!(bits(pool, 2), 3);
    }
}
