/*!
Synthetic but realistic cache-aside MONITOR text, for size and speed measurements.

Readers `GET order:N`; on a miss (about one read in five) they `SET order:N <json> EX 300`;
writers `DEL order:N`; now and then an `EXPIRE` or `MGET`. Clients are a pool of `10.0.x.y:port`
addresses, keys follow a skewed distribution (hot orders), values are JSON renderings of an
order row. Deterministic for a given seed: the shared seeded generator, no external randomness.
*/

use std::fmt::Write;

pub use cachetape_base::Rng;

const STATUSES: [&str; 5] = ["NEW", "PAID", "SHIPPED", "CANCELLED", "REFUNDED"];

/// `lines` MONITOR lines (each ending in `\n`) as `redis-cli monitor` writes them, preceded by
/// its `OK`.
pub fn cache_aside_monitor_text(lines: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let clients: Vec<String> = (0..64)
        .map(|_| {
            format!("10.0.{}.{}:{}", rng.below(4), 2 + rng.below(250), 32768 + rng.below(28000))
        })
        .collect();
    let mut out = String::with_capacity(lines * 140);
    out.push_str("OK\n");
    let mut t: u64 = 1_795_666_525_000_000;
    let mut written = 0;
    while written < lines {
        t += 1 + rng.below(120);
        let client = &clients[rng.below(clients.len() as u64) as usize];
        // Skewed keys: half the traffic on 1% of 100k orders.
        let id = if rng.below(2) == 0 { rng.below(1_000) } else { rng.below(100_000) };
        let ts = format!("{}.{:06} [0 {client}] ", t / 1_000_000, t % 1_000_000);
        let roll = rng.below(100);
        let _ = if roll < 70 {
            writeln!(out, "{ts}\"GET\" \"order:{id}\"")
        } else if roll < 85 {
            let status = STATUSES[rng.below(5) as usize];
            let json = format!(
                "{{\\\"id\\\":{id},\\\"customer\\\":{},\\\"status\\\":\\\"{status}\\\",\\\"total\\\":\\\"{}.{:02}\\\",\\\"items\\\":{},\\\"updated_at\\\":\\\"2026-11-26T04:{:02}:{:02}Z\\\"}}",
                10_000 + rng.below(90_000),
                rng.below(500),
                rng.below(100),
                1 + rng.below(9),
                rng.below(60),
                rng.below(60)
            );
            writeln!(out, "{ts}\"SET\" \"order:{id}\" \"{json}\" \"EX\" \"300\"")
        } else if roll < 95 {
            writeln!(out, "{ts}\"DEL\" \"order:{id}\"")
        } else if roll < 98 {
            writeln!(out, "{ts}\"EXPIRE\" \"order:{id}\" \"{}\"", 60 + rng.below(600))
        } else {
            writeln!(
                out,
                "{ts}\"MGET\" \"order:{id}\" \"order:{}\" \"order:{}\"",
                rng.below(1000),
                rng.below(1000)
            )
        };
        written += 1;
    }
    out
}
