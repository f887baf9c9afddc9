//! `E164::parse` on a mix of countries' numbers: nanoseconds per number on one
//! thread, and numbers per second on every core. Run with `cargo run --release`
//! from this directory (see bench/README.md).

mod corpus;
mod measure;

use switchboard::numbers::{E164, Region};

fn parse(case: &corpus::Case) -> bool {
    let region = case.region.as_deref().and_then(|code| code.parse::<Region>().ok());
    E164::parse(&case.spelling, region).is_ok()
}

fn main() {
    for (name, cases) in [
        ("every country", corpus::every_country()),
        ("eight countries", corpus::eight_countries()),
    ] {
        // The first call builds libphonenumber's tables; keep it out of the figures.
        let accepted = measure::accepted(&cases, parse);
        let per_number = measure::per_number(&cases, 21, parse);
        let throughput = measure::throughput(&cases, 20, parse);
        println!(
            "{name}: {} numbers, {accepted} accepted; E164::parse {per_number:.0} ns per number on one thread, \
             {throughput:.0} numbers/s on every core",
            cases.len()
        );
    }
}
