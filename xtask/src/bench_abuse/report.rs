//! The report of a bench abuse run.

use super::*;

// ---- Report ----

pub(super) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub(super) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

pub(super) fn report(attacks: &[&'static str], outcomes: &[Outcome], settle_secs: u64) {
    println!();
    println!(
        "| attack | the client got | RSS idle after start | RSS before (baseline) | peak RSS | settled RSS ({settle_secs} s idle) | peak − baseline | settled − baseline | server CPU s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for attack in attacks {
        let runs: Vec<&Outcome> = outcomes.iter().filter(|o| o.attack == *attack).collect();
        let m = |f: &dyn Fn(&Outcome) -> f64| median(runs.iter().map(|o| f(o)).collect());
        let clients: Vec<&str> = runs.iter().map(|o| o.client.as_str()).collect();
        println!(
            "| {attack} | {} | {:.0} MiB | {:.0} MiB | {:.0} MiB | {:.0} MiB | {:+.0} MiB | {:+.0} MiB | {:.2} |",
            clients.join("; "),
            m(&|o| mib(o.start_kib)),
            m(&|o| mib(o.before_kib)),
            m(&|o| mib(o.peak_kib)),
            m(&|o| mib(o.settled_kib)),
            m(&|o| mib(o.peak_kib) - mib(o.before_kib)),
            m(&|o| mib(o.settled_kib) - mib(o.before_kib)),
            m(&|o| o.cpu_secs),
        );
    }
}
