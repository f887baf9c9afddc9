//! Timing with plain `std`: the median of several rounds over the whole corpus,
//! on one thread and on every core at once. Always on spawned threads: the
//! `regex` crate gives its fast path only to the thread that first used each
//! regex (here, `main`, which built the corpus), and a server's worker threads
//! mostly are not that thread; measured on `main`, `E164::parse` looks about
//! three times faster than a server will see it.

use std::{hint::black_box, thread, time::Instant};

use crate::corpus::Case;

/// Median nanoseconds per number over `rounds` passes through `cases`, on one thread.
pub fn per_number(cases: &[Case], rounds: usize, parse: impl Fn(&Case) -> bool + Sync) -> f64 {
    let mut samples: Vec<f64> = thread::scope(|scope| {
        scope
            .spawn(|| {
                (0..rounds)
                    .map(|_| {
                        let started = Instant::now();
                        for case in cases {
                            black_box(parse(black_box(case)));
                        }
                        started.elapsed().as_nanos() as f64 / cases.len() as f64
                    })
                    .collect()
            })
            .join()
            .expect("the timing thread")
    });
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Numbers per second with one thread per core, each going through the corpus `rounds` times.
pub fn throughput(cases: &[Case], rounds: usize, parse: impl Fn(&Case) -> bool + Sync) -> f64 {
    let threads = thread::available_parallelism().map_or(2, usize::from);
    let started = Instant::now();
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..rounds {
                    for case in cases {
                        black_box(parse(black_box(case)));
                    }
                }
            });
        }
    });
    (threads * rounds * cases.len()) as f64 / started.elapsed().as_secs_f64()
}

/// How many of the cases `parse` accepts, to show both parsers did the same work.
pub fn accepted(cases: &[Case], parse: impl Fn(&Case) -> bool) -> usize {
    cases.iter().filter(|case| parse(case)).count()
}
