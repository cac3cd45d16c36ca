//! Times contact-detail masking ([`messaging_domain::masking::mask_pii`]) on ordinary prose and on
//! adversarial inputs at several lengths. Run by `cargo xtask bench mask`, which builds it in the
//! debug and the release profile and prints the table; it can also be run by hand:
//! `cargo run --release -p messaging-domain --example mask_bench -- --samples 31`.
//!
//! Prints one tab-separated line per input and length: `name`, `kind` (`prose` or `adversarial`),
//! `chars`, `median_us`, `samples`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use messaging_domain::masking::mask_pii;

/// Ordinary chat between a student and a tutor: punctuation, a date, a time, a price, a file name.
const PROSE: &str = "Hi Anna, thanks for the notes on chapter three. I read them twice and the \
    examples finally make sense. Could we go over question 4 again on Tuesday at 5pm? My exam is \
    on 2025-10-21, so I want to practise the long division part and the word problems. I paid the \
    $45 for this week already. I also uploaded homework.pdf with my answers; the last two are \
    probably wrong. See you soon! ";

/// The same kind of chat with accents, emoji and non-Latin script: the `regex` crate's fast
/// engines give up on Unicode word boundaries in non-ASCII text, so this is measured on its own.
const PROSE_UNICODE: &str = "Grüße, Zoë! Danke für die Notizen 👋 Können wir Dienstag um 17 \
    Uhr die Aufgaben 3–5 durchgehen? Ich habe die Lösung für Übung 12 hochgeladen: übung.pdf. \
    日本語のクラスも楽しいです。Bis bald, Jörg. ";

/// Inputs chosen to defeat a masker: each is repeated up to the measured length. The first made
/// the old masking recurse once per repetition and overflow a worker thread's stack.
const ADVERSARIAL: &[(&str, &str)] = &[
    ("@a.co/ repeated", "@a.co/"),
    ("a.com.pdf/ repeated", "a.com.pdf/"),
    ("x@a.co. repeated", "x@a.co."),
    ("1-2-3-4- digit run", "1-2-3-4-"),
    ("12 34 56 digit groups", "12 34 56 "),
    ("a. many dots", "a."),
    ("one long word", "a"),
    ("one long digit run", "7"),
    ("http://x.co/). link", "http://x.co/)."),
    ("whatsapp me at @", "whatsapp me at @"),
    ("line is line is", "line is "),
    ("john at example dot", "john at example dot "),
    ("five spelled digits", "five "),
    (
        "contact-dense chat",
        "mail john@example.com or call 555-1234, skype john.doe ",
    ),
];

/// The lengths measured, in characters: a long chat message and the longest body allowed.
const LENGTHS: &[usize] = &[1_000, messaging_domain::text::ABSOLUTE_MAX_BODY_CHARS];

fn main() {
    let mut samples = 31_usize;
    let mut budget = Duration::from_secs(3);
    let mut only = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        let number = value.parse::<u64>().ok();
        match (arg.as_str(), number) {
            ("--samples", Some(n)) => samples = usize::try_from(n.max(1)).unwrap_or(31),
            ("--budget-ms", Some(ms)) => budget = Duration::from_millis(ms),
            ("--only", _) => only = value,
            _ => {
                eprintln!("usage: mask_bench [--samples N] [--budget-ms MS] [--only NAME-PART]");
                std::process::exit(2);
            }
        }
    }
    // Compile the patterns before anything is timed.
    let _ = mask_pii("warm up: john@example.com, 555-1234, example.com, @jd, skype jd");
    let mut inputs = vec![("ordinary prose", "prose", PROSE)];
    inputs.push(("prose with accents and emoji", "prose", PROSE_UNICODE));
    inputs.extend(
        ADVERSARIAL
            .iter()
            .map(|(name, unit)| (*name, "adversarial", *unit)),
    );
    for &chars in LENGTHS {
        for (name, kind, unit) in inputs.iter().filter(|(name, ..)| name.contains(&only)) {
            let text: String = unit.chars().cycle().take(chars).collect();
            let (median, taken) = median_of(&text, samples, budget);
            println!(
                "{name}\t{kind}\t{chars}\t{:.1}\t{taken}",
                median.as_secs_f64() * 1e6
            );
        }
    }
}

/// The median time of masking `text`, over `samples` runs or as many as fit in `budget` (at least
/// three), after one untimed run.
fn median_of(text: &str, samples: usize, budget: Duration) -> (Duration, usize) {
    std::hint::black_box(mask_pii(text));
    let started = Instant::now();
    let mut times = Vec::with_capacity(samples);
    while times.len() < samples && (times.len() < 3 || started.elapsed() < budget) {
        let t = Instant::now();
        std::hint::black_box(mask_pii(std::hint::black_box(text)));
        times.push(t.elapsed());
    }
    times.sort_unstable();
    (times[times.len() / 2], times.len())
}
