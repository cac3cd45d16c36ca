//! The browser tests' needs: Debian's `chromium` and `chromium-driver` (installed when missing,
//! never a browser download of a tool's own), the CI step that runs the browser tests one at a
//! time, and `cargo xtask screenshots`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs Debian's chromium and its driver when either is missing.
pub fn ensure_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    println!("ci: chromium not found; installing Debian's chromium and chromium-driver packages");
    crate::ci::sh(
        "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null",
    )?;
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        Ok(())
    } else {
        Err("chromium and chromium-driver installed but not found in /usr/bin".into())
    }
}

/// The CI step: every browser test on SQLite and PostgreSQL, one at a time (each drives up to
/// three browsers; two cores hold no more), required to run.
pub fn run_tests(database_url: &str, nextest: bool) -> Result<(), String> {
    ensure_chromium()?;
    let mut test = Command::new("cargo");
    if nextest {
        test.args([
            "nextest",
            "run",
            "-p",
            "server",
            "--test",
            "browser",
            "--no-fail-fast",
            "--test-threads",
            "1",
        ]);
    } else {
        test.args([
            "test",
            "-p",
            "server",
            "--test",
            "browser",
            "--",
            "--test-threads",
            "1",
        ]);
    }
    test.env("TEST_DATABASE_URL", database_url)
        .env("MESSAGING_REQUIRE_POSTGRES", "1")
        .env("MESSAGING_REQUIRE_BROWSER", "1")
        .env_remove("MESSAGING_SKIP_BROWSER");
    crate::ci::run_step("browser tests", &mut test)
}

/// `cargo xtask screenshots`: PNGs of the main screens at desktop and phone width into `out`.
pub fn screenshots(out: &Path) -> Result<(), String> {
    ensure_chromium()?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let out = out
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", out.display()))?;
    let started = Instant::now();
    let status = Command::new("cargo")
        .args(["test", "-p", "server", "--test", "browser", "--"])
        .args(["--ignored", "--exact", "screenshots_of_the_main_screens"])
        .env("MESSAGING_SCREENSHOTS", &out)
        .env("MESSAGING_REQUIRE_BROWSER", "1")
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    if !status.success() {
        return Err(format!("taking screenshots failed ({status})"));
    }
    println!(
        "screenshots written to {} in {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
