//! One synthetic round of N candidates (4N nominators), evaluated R times:
//! a binary to profile the round with (`valgrind --tool=callgrind`, `perf`)
//! without the rest of the workspace. `stakeflow-bench rescore` reports the
//! figures; this only runs the work.
//!
//!     cargo run --release -p rules --features synthetic --example round -- 10000 5

// The allocator the stakeflow binary runs with (see stakeflow/src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("numbers: candidates, rounds"));
    let (n, repeat) = (args.next().unwrap_or(10_000), args.next().unwrap_or(5));
    rules::synthetic::with_round_input(n, |input| {
        let (mut times, mut drops) = (Vec::new(), Vec::new());
        for _ in 0..repeat {
            let t = std::time::Instant::now();
            let round = std::hint::black_box(rules::round::evaluate_round(input));
            times.push(t.elapsed());
            let t = std::time::Instant::now();
            drop(round);
            drops.push(t.elapsed());
        }
        let median = |mut v: Vec<std::time::Duration>| {
            v.sort();
            v[v.len() / 2].as_secs_f64() * 1e3
        };
        println!("{n} candidates: median round {:.1} ms, then freeing it {:.1} ms, over {repeat}", median(times), median(drops));
    });
}
