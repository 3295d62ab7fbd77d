//! Work split over the machine's cores with scoped threads. Chunks are
//! handed out one at a time, so uneven work (a few very active users)
//! still balances.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Call `work` on every item, from all cores.
pub fn for_each<I: Send>(items: Vec<I>, work: impl Fn(I) + Sync) {
    let threads = threads().min(items.len());
    if threads <= 1 {
        items.into_iter().for_each(work);
        return;
    }
    let queue = Mutex::new(items.into_iter());
    let (queue, work) = (&queue, &work);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(move || {
                loop {
                    // A poisoned lock means another worker panicked; stop.
                    let next = match queue.lock() {
                        Ok(mut q) => q.next(),
                        Err(_) => None,
                    };
                    match next {
                        Some(item) => work(item),
                        None => break,
                    }
                }
            });
        }
    });
}

/// `work` over `0..n` in chunks of `chunk`, from all cores; the results in
/// chunk order (so sums over them are deterministic).
pub fn map_ranges<R: Send>(
    n: usize,
    chunk: usize,
    work: impl Fn(Range<usize>) -> R + Sync,
) -> Vec<R> {
    let chunk = chunk.max(1);
    let chunks = n.div_ceil(chunk);
    let threads = threads().min(chunks);
    if threads <= 1 {
        return (0..chunks)
            .map(|c| work(c * chunk..((c + 1) * chunk).min(n)))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let (next, work) = (&next, &work);
    let mut parts: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let c = next.fetch_add(1, Ordering::Relaxed);
                        if c >= chunks {
                            break;
                        }
                        mine.push((c, work(c * chunk..((c + 1) * chunk).min(n))));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(mine) => mine,
                // A bug in `work`: let the caller's task fail as a whole
                // rather than return partial results.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    parts.sort_unstable_by_key(|(c, _)| *c);
    parts.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_ranges_keeps_order_and_covers_everything() {
        let parts = map_ranges(1003, 10, |r| r);
        assert_eq!(parts.len(), 101);
        assert_eq!(parts[0], 0..10);
        assert_eq!(parts[100], 1000..1003);
        let total = Mutex::new(0);
        for_each((0..100).collect(), |i: i32| {
            if let Ok(mut t) = total.lock() {
                *t += i;
            }
        });
        assert_eq!(total.into_inner().unwrap(), 4950);
    }
}
