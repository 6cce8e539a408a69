//! [`map`]: an order-preserving parallel map over a slice, on all cores.
//!
//! Work is handed out in small batches from a shared counter, so a thread that gets cheap
//! items takes more of them and no core idles while another still has a long tail (a static
//! split into halves left one core waiting on a 2-core machine). Plain `std::thread::scope`:
//! the jobs here are a few thousand file reads or compressions, not worth a thread-pool crate.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Number of worker threads to use: the available parallelism (at least 1). Asked once per
/// process: std reads the cgroup quota files on every call.
pub fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).max(1))
}

/// The result of a scoped thread; its panic, if any, goes on in the caller.
pub fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `items.iter().map(f).collect()`, computed on all cores in batches of `batch` items; the
/// result keeps the order of `items`. A panic in `f` is propagated to the caller.
pub fn map<T, R, F>(items: &[T], batch: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let batch = batch.max(1);
    let threads = threads().min(items.len().div_ceil(batch));
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let start = next.fetch_add(batch, Ordering::Relaxed);
            if start >= items.len() {
                return done;
            }
            let end = (start + batch).min(items.len());
            done.push((start, items[start..end].iter().map(&f).collect()));
        }
    };
    let mut parts: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
        let mut parts = Vec::new();
        for h in handles {
            parts.extend(joined(h));
        }
        parts
    });
    parts.sort_unstable_by_key(|(start, _)| *start);
    let mut out = Vec::with_capacity(items.len());
    for (_, part) in parts {
        out.extend(part);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_for_every_batch_size() {
        let items: Vec<u32> = (0..1000).collect();
        for batch in [1, 7, 64, 999, 1000, 5000] {
            let out = super::map(&items, batch, |x| x * 2);
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>(), "batch {batch}");
        }
        assert!(super::map(&[] as &[u32], 8, |x| *x).is_empty());
    }
}
