//! `cargo xtask bench mask`: the cost of masking contact details, adversarial inputs against
//! ordinary prose of the same length, in the debug build (what `cargo run` makes) and in the
//! release build.
//!
//! The timing itself runs in `messaging-domain`'s `mask_bench` example, built by cargo in each
//! profile (it needs nothing but the domain crate, so a release build takes seconds); this command
//! builds and runs it, then puts each median next to the prose median measured in the same run.

use std::path::Path;
use std::process::Command;

use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct MaskArgs {
    /// Which builds to measure.
    #[arg(long, value_enum, default_value_t = Profiles::Both)]
    profile: Profiles,
    /// Timed runs per input and length (fewer when the time budget runs out first).
    #[arg(long, default_value_t = 31)]
    samples: u64,
    /// Time budget per input and length, in milliseconds.
    #[arg(long, default_value_t = 3_000)]
    budget_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Profiles {
    Debug,
    Release,
    Both,
}

/// One measured line of the example's output.
struct Row {
    name: String,
    kind: String,
    chars: usize,
    median_us: f64,
    samples: usize,
}

pub fn mask(args: MaskArgs) -> Result<(), String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace directory")?;
    let profiles: &[&str] = match args.profile {
        Profiles::Debug => &["debug"],
        Profiles::Release => &["release"],
        Profiles::Both => &["debug", "release"],
    };
    println!(
        "bench mask: median time to mask each input ({} runs or {} ms per cell), and its ratio to ordinary prose of the same length in the same run",
        args.samples, args.budget_ms
    );
    for profile in profiles {
        let rows = run_example(workspace, profile, &args)?;
        report(profile, &rows);
    }
    Ok(())
}

/// Builds and runs the example in `profile`, returning its rows.
fn run_example(workspace: &Path, profile: &str, args: &MaskArgs) -> Result<Vec<Row>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args([
        "run",
        "--quiet",
        "-p",
        "messaging-domain",
        "--example",
        "mask_bench",
    ]);
    if profile == "release" {
        command.arg("--release");
    }
    command
        .args(["--", "--samples", &args.samples.to_string()])
        .args(["--budget-ms", &args.budget_ms.to_string()])
        .current_dir(workspace);
    let flag = if profile == "release" {
        " --release"
    } else {
        ""
    };
    eprintln!("bench mask: cargo run{flag} -p messaging-domain --example mask_bench");
    let output = command.output().map_err(|e| format!("cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the mask_bench example failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(parse_row)
        .collect()
}

fn parse_row(line: &str) -> Result<Row, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [name, kind, chars, median, samples] = fields.as_slice() else {
        return Err(format!("unexpected line from mask_bench: {line:?}"));
    };
    let bad = |what: &str| format!("unexpected {what} in {line:?}");
    Ok(Row {
        name: (*name).to_owned(),
        kind: (*kind).to_owned(),
        chars: chars.parse().map_err(|_| bad("length"))?,
        median_us: median.parse().map_err(|_| bad("median"))?,
        samples: samples.parse().map_err(|_| bad("sample count"))?,
    })
}

/// Prints one profile's table: a row per input, a column pair per length.
fn report(profile: &str, rows: &[Row]) {
    let mut lengths: Vec<usize> = rows.iter().map(|r| r.chars).collect();
    lengths.sort_unstable();
    lengths.dedup();
    let prose = |chars: usize| {
        rows.iter()
            .find(|r| r.chars == chars && r.name == "ordinary prose")
            .map_or(f64::NAN, |r| r.median_us)
    };
    let mut names: Vec<(&str, &str)> = Vec::new();
    for row in rows {
        if !names.iter().any(|(n, _)| *n == row.name) {
            names.push((&row.name, &row.kind));
        }
    }
    println!("\n### {profile} build\n");
    let mut header = String::from("| input | kind |");
    let mut rule = String::from("|---|---|");
    for chars in &lengths {
        header.push_str(&format!(" {chars} chars: median µs | × prose |"));
        rule.push_str("---:|---:|");
    }
    println!("{header}\n{rule}");
    let mut worst: Option<(f64, &str, usize)> = None;
    for (name, kind) in &names {
        let mut line = format!("| {name} | {kind} |");
        for &chars in &lengths {
            match rows.iter().find(|r| r.name == *name && r.chars == chars) {
                Some(row) => {
                    let ratio = row.median_us / prose(chars);
                    line.push_str(&format!(" {:.1} | {ratio:.1}x |", row.median_us));
                    if row.kind == "adversarial" && worst.is_none_or(|(w, ..)| ratio > w) {
                        worst = Some((ratio, name, chars));
                    }
                }
                None => line.push_str(" | |"),
            }
        }
        println!("{line}");
    }
    let fewest = rows.iter().map(|r| r.samples).min().unwrap_or(0);
    println!("\nfewest timed runs in a cell: {fewest}");
    if let Some((ratio, name, chars)) = worst {
        println!(
            "worst adversarial input ({profile}): {name} at {chars} characters, {ratio:.1}x ordinary prose"
        );
    }
}
