//! `cargo xtask ci`: the whole test suite, with the real components it needs, then a short `cargo
//! xtask chaos`, clippy and rustfmt. PostgreSQL is started when installed but stopped, installed
//! (Debian's package) when missing, and the PostgreSQL tests are then required to run, not skipped.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn run() -> Result<(), String> {
    let database_url =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    if database_url == DEFAULT_TEST_DATABASE_URL {
        ensure_local_postgres()?;
    }
    clean_test_databases(&database_url);

    let nextest = Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut test = Command::new("cargo");
    if nextest {
        // The browser tests run in a step of their own, one at a time.
        test.args([
            "nextest",
            "run",
            "--workspace",
            "--no-fail-fast",
            "-E",
            "not binary(browser)",
        ]);
    } else {
        println!("cargo-nextest not found; running cargo test");
        test.args(["test", "--workspace", "--no-fail-fast"]);
    }
    test.env("TEST_DATABASE_URL", &database_url)
        .env("MESSAGING_REQUIRE_POSTGRES", "1")
        .env("MESSAGING_SKIP_BROWSER", "1");
    // S3 (s3s-fs) and clamd for the attachment tests, which must then run rather than skip.
    let components = crate::components::Components::start()?;
    test.envs(components.env())
        .env("MESSAGING_REQUIRE_COMPONENTS", "1");
    let tested = run_step("tests", &mut test);
    drop(components);
    tested?;
    // Another service embedding the domain over the in-memory store, its rules checked by the
    // example itself (it exits non-zero when one breaks); built by the tests already, so quick.
    run_step(
        "embedding example",
        Command::new("cargo").args(["run", "-p", "messaging-memory", "--example", "embedding"]),
    )?;
    // A short run of the fault drill: the debug server (its dependencies are built by the tests
    // already) on a private PostgreSQL cluster, so restarting that harms nothing else.
    let xtask = std::env::current_exe().map_err(|e| format!("chaos: {e}"))?;
    run_step(
        "chaos",
        Command::new(xtask).args(["chaos", "--seconds", "30", "--settle-secs", "60"]),
    )?;
    // The served OpenAPI document against the real server, from outside (a few minutes).
    println!("ci: schemathesis");
    crate::schemathesis::run(&crate::schemathesis::StArgs {
        max_examples: 25,
        seed: 1,
        database_url: database_url.clone(),
        only: None,
    })?;
    crate::browser::run_tests(&database_url, nextest)?;
    run_step(
        "clippy",
        Command::new("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step(
        "rustfmt",
        Command::new("cargo").args(["fmt", "--all", "--check"]),
    )?;
    clean_test_databases(&database_url);
    println!("ci: all steps passed");
    Ok(())
}

pub(crate) fn run_step(name: &str, command: &mut Command) -> Result<(), String> {
    println!("ci: {name}");
    let started = Instant::now();
    let status = command
        .status()
        .map_err(|e| format!("{name}: cannot start: {e}"))?;
    let took = started.elapsed().as_secs();
    if status.success() {
        println!("ci: {name} passed in {}m{:02}s", took / 60, took % 60);
        Ok(())
    } else {
        Err(format!(
            "{name} failed ({status}) after {}m{:02}s",
            took / 60,
            took % 60
        ))
    }
}

fn postgres_listening() -> bool {
    let addr: SocketAddr = ([127, 0, 0, 1], 5432).into();
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

fn wait_for_postgres() -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if postgres_listening() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err("PostgreSQL did not start listening on 127.0.0.1:5432 within 60 s".into())
}

pub(crate) fn sh(script: &str) -> Result<(), String> {
    let status = Command::new("sh")
        .args(["-c", script])
        .status()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{script}` failed ({status})"))
    }
}

/// Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with trust authentication for local
/// TCP connections, starting or installing Debian's cluster as needed.
fn ensure_local_postgres() -> Result<(), String> {
    if postgres_listening() {
        return Ok(());
    }
    let installed = Path::new("/etc/postgresql").is_dir()
        && std::fs::read_dir("/etc/postgresql").is_ok_and(|mut d| d.next().is_some());
    if !installed {
        println!("ci: PostgreSQL not found; installing Debian's postgresql package");
        sh(
            "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq postgresql >/dev/null",
        )?;
        // Tests connect over TCP as `postgres` without a password; allow that from this machine
        // only, on the cluster this step just installed.
        sh("for f in /etc/postgresql/*/main/pg_hba.conf; do \
              sed -i -E 's/^(host\\s+all\\s+all\\s+127\\.0\\.0\\.1\\/32\\s+)\\S+/\\1trust/' \"$f\"; \
            done")?;
    }
    println!("ci: starting PostgreSQL");
    sh(
        "for v in $(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect $v main start || true; done",
    )?;
    wait_for_postgres()
}

/// Drops databases left by earlier test runs (tests create one `msgtest_<uuid>` database each).
fn clean_test_databases(database_url: &str) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(_) => return,
    };
    match rt.block_on(messaging_store::Store::drop_databases_with_prefix(
        database_url,
        "msgtest_",
    )) {
        Ok(n) if n > 0 => println!("ci: dropped {n} leftover test databases"),
        Ok(_) => {}
        Err(e) => println!(
            "ci: could not clean test databases: {}",
            crate::seed::describe(e)
        ),
    }
}
