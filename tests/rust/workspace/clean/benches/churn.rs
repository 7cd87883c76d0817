//! `cargo memtrack bench`'s target (harness = false): ten vectors of 1,000
//! u64s, each one block of 8,000 bytes freed before the next, so the heap's
//! total is 80,000 bytes in 10 blocks more than the runtime's own and its
//! peak one vector.

fn main() {
    let mut sum = 0u64;
    for round in 0..10u64 {
        let v: Vec<u64> = (0..1000).map(|i| i * round).collect();
        sum += v.iter().sum::<u64>();
    }
    println!("churn {}", sum);
}
