//! `cargo xtask schemathesis`: tests the served OpenAPI document from outside with schemathesis
//! (PyPI, every check), against a real server on a fresh SQLite file and on a fresh PostgreSQL
//! database, once as a normal user and once as an admin. Any failure fails the step.
//!
//! schemathesis is installed on first use into a virtualenv under `~/.cache/messaging-ci`, pinned
//! to [`VERSION`], with the newest CPython the machine has (pyenv's included), 3.12 or later
//! preferred: under CPython 3.11.7 an earlier schemathesis crashed in its coverage phase (this
//! release ran cleanly on it, so 3.11 is the fallback). The server is the debug binary the test step has
//! already built; the demo accounts are seeded, and a few messages and a report are made through
//! the API so that routes have something to act on.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};

/// The schemathesis release the step runs (and the cache directory is named after).
pub const VERSION: &str = "4.32.5";

/// The run's configuration, next to this crate.
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schemathesis.toml");

#[derive(Debug, Args, Clone)]
pub struct StArgs {
    /// Test cases per operation and phase (schemathesis' `--max-examples`).
    #[arg(long, default_value_t = 25)]
    pub max_examples: u32,
    /// Seed for reproducible runs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// PostgreSQL server to create the test database on.
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub database_url: String,
    /// Only this backend (`sqlite` or `postgres`).
    #[arg(long)]
    pub only: Option<String>,
}

/// One run's outcome, for the summary.
struct Outcome {
    backend: &'static str,
    user: &'static str,
    passed: bool,
    summary: String,
    elapsed: Duration,
}

pub fn run(args: &StArgs) -> Result<(), String> {
    let started = Instant::now();
    let st = ensure_schemathesis()?;
    let server = server_binary()?;
    let mut outcomes = Vec::new();
    for backend in ["sqlite", "postgres"] {
        if args.only.as_deref().is_some_and(|only| only != backend) {
            continue;
        }
        outcomes.extend(run_backend(backend, args, &st, &server)?);
    }
    println!(
        "schemathesis {VERSION}, {} examples per operation, seed {}:",
        args.max_examples, args.seed
    );
    for o in &outcomes {
        println!(
            "  {:<8} {:<6} {:>5.1} s  {}  {}",
            o.backend,
            o.user,
            o.elapsed.as_secs_f64(),
            if o.passed { "passed" } else { "FAILED" },
            o.summary
        );
    }
    println!(
        "schemathesis: {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    if failed > 0 {
        return Err(format!("schemathesis: {failed} run(s) failed"));
    }
    Ok(())
}

fn run_backend(
    backend: &'static str,
    args: &StArgs,
    st: &Path,
    server: &Path,
) -> Result<Vec<Outcome>, String> {
    let dir = std::env::temp_dir().join(format!("messaging-st-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let (database_url, pg_database) = match backend {
        "sqlite" => (format!("sqlite://{}/messaging.db", dir.display()), None),
        _ => {
            let name = format!("msgtest_st_{}", uuid::Uuid::new_v4().simple());
            let base = args
                .database_url
                .rsplit_once('/')
                .map_or(args.database_url.as_str(), |(base, _)| base);
            (format!("{base}/{name}"), Some(name))
        }
    };
    let result = (|| {
        block_on(async {
            let store = crate::seed::open(&database_url).await?;
            crate::seed::demo(&store).await
        })?;
        let mut server = Server::start(server, &dir, &database_url)?;
        let tokens = seed_through_api(server.port)?;
        let mut outcomes = Vec::new();
        for (user, token) in [("user", &tokens.user), ("admin", &tokens.admin)] {
            outcomes.push(run_st(st, backend, user, token, server.port, args, &dir)?);
        }
        server.stop();
        Ok(outcomes)
    })();
    if let Some(name) = pg_database {
        block_on(async {
            messaging_store::Store::drop_databases_with_prefix(&args.database_url, &name)
                .await
                .map(|_| ())
                .map_err(crate::seed::describe)
        })?;
    }
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn run_st(
    st: &Path,
    backend: &'static str,
    user: &'static str,
    token: &str,
    port: u16,
    args: &StArgs,
    dir: &Path,
) -> Result<Outcome, String> {
    println!("schemathesis: {backend}, as {user}");
    let started = Instant::now();
    let log = dir.join(format!("st-{user}.txt"));
    // Run in the temporary directory: schemathesis keeps a cache in its working directory.
    let status = Command::new(st)
        .current_dir(dir)
        .args(["--config-file", CONFIG, "run"])
        .arg(format!("http://127.0.0.1:{port}/api/openapi.json"))
        .args(["--checks", "all", "--workers", "2", "--no-color"])
        .args(["--max-examples", &args.max_examples.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .stdout(file(&log)?)
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", st.display()))?;
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let summary = output
        .lines()
        .rev()
        .find(|l| l.contains(" in ") && (l.contains("passed") || l.contains("fail")))
        .unwrap_or("")
        .trim_matches(|c: char| c == '=' || c.is_whitespace())
        .to_owned();
    if !status.success() {
        // The failures and how to reproduce them, as schemathesis wrote them.
        println!("{output}");
    }
    Ok(Outcome {
        backend,
        user,
        passed: status.success(),
        summary,
        elapsed: started.elapsed(),
    })
}

/// The tokens of the accounts schemathesis acts as.
struct Tokens {
    user: String,
    admin: String,
}

/// Logs the demo accounts in and gives the routes something to act on: messages both ways, a
/// clinician's message and its reply, and a report.
fn seed_through_api(port: u16) -> Result<Tokens, String> {
    let login = |name: &str| -> Result<String, String> {
        let body = json!({"username": name, "password": crate::seed::DEMO_PASSWORD});
        let (status, answer) = http(port, "POST", "/api/auth/login", None, Some(&body))?;
        answer["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("login as {name}: {status} {answer}"))
    };
    let [alice, tom, pat, doc, admin] = ["alice", "tom", "pat", "drsmith", "admin"].map(login);
    let (alice, tom, pat, doc, admin) = (alice?, tom?, pat?, doc?, admin?);
    let ok = |what: &str, (status, body): (u16, Value)| -> Result<Value, String> {
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(format!("seeding {what}: {status} {body}"))
        }
    };
    let to_tom = ok(
        "a message to tom",
        http(
            port,
            "POST",
            "/api/messages/send",
            Some(&alice),
            Some(&json!({
                "recipient": "tom", "subject": "Budget", "content": "Can we move the budget meeting?"
            })),
        )?,
    )?;
    ok(
        "a reply to alice",
        http(
            port,
            "POST",
            &format!("/api/messages/{}/reply", to_tom["message_id"]),
            Some(&tom),
            Some(&json!({"content": "Sure, Tuesday at 3pm works."})),
        )?,
    )?;
    let from_doc = ok(
        "a clinician's message",
        http(
            port,
            "POST",
            "/api/clinician/message",
            Some(&doc),
            Some(&json!({
                "recipient_username": "pat", "message": "How are you feeling this week?"
            })),
        )?,
    )?;
    ok(
        "a patient's reply",
        http(
            port,
            "POST",
            &format!("/api/messages/{}/reply", from_doc["message_id"]),
            Some(&pat),
            Some(&json!({"content": "Better, thank you."})),
        )?,
    )?;
    ok(
        "a report",
        http(
            port,
            "POST",
            &format!("/api/messages/{}/report", to_tom["message_id"]),
            Some(&tom),
            Some(&json!({"reason": "testing reports"})),
        )?,
    )?;
    Ok(Tokens { user: alice, admin })
}

/// The server, running until stopped (or dropped).
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(binary: &Path, dir: &Path, database_url: &str) -> Result<Self, String> {
        let port = crate::components::free_port()?;
        let child = Command::new(binary)
            .env("MESSAGING_LISTEN", format!("127.0.0.1:{port}"))
            .env("MESSAGING_DATA_DIR", dir)
            .env("DATABASE_URL", database_url)
            .env("MESSAGING_ACCESS_TOKEN_TTL_SECS", "3600")
            .env("MESSAGING_LOG_FORMAT", "json")
            // No per-second send limit: with one, which generated sends got past it (and so
            // were checked against the schema at all) depended on timing, so a mismatch could
            // pass one run and fail the next. The daily allowance, counted per send, stays.
            .env("MESSAGING_SEND_PER_SECOND", "0")
            .stdout(file(&dir.join("server.log"))?)
            .stderr(file(&dir.join("server.err"))?)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = Self { child, port };
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = http(port, "GET", "/readyz", None, None) {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(60) {
                server.stop();
                return Err(format!(
                    "the server did not become ready; see {}",
                    dir.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One request over a fresh connection; the status and the body as JSON (`Null` when empty).
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        payload.len()
    );
    if body.is_some() {
        request.push_str("Content-Type: application/json\r\n");
    }
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&payload);
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let end = crate::http1::find(&response, b"\r\n\r\n").ok_or("no response head")?;
    let head = String::from_utf8_lossy(&response[..end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("unreadable status line")?;
    let value = serde_json::from_slice(&response[end + 4..]).unwrap_or(Value::Null);
    Ok((status, value))
}

fn file(path: &Path) -> Result<std::fs::File, String> {
    std::fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn block_on<T>(future: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(future)
}

/// The debug server binary, built if needed (the test step has usually built it already).
fn server_binary() -> Result<PathBuf, String> {
    crate::ci::run_step(
        "build the server",
        Command::new("cargo").args([
            "build",
            "--quiet",
            "-p",
            "server",
            "--bin",
            "messaging-server",
        ]),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let binary = target.join("debug/messaging-server");
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!("no server binary at {}", binary.display()))
    }
}

/// The `st` executable of the pinned release, installing it into a virtualenv when missing.
fn ensure_schemathesis() -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let venv = Path::new(&home)
        .join(".cache/messaging-ci")
        .join(format!("schemathesis-{VERSION}"));
    let st = venv.join("bin/st");
    if reports_version(&st) {
        return Ok(st);
    }
    let python = find_python()?;
    println!(
        "schemathesis: installing {VERSION} into {} (with {})",
        venv.display(),
        python.display()
    );
    let _ = std::fs::remove_dir_all(&venv);
    crate::ci::run_step(
        "create the schemathesis virtualenv",
        Command::new(&python).arg("-m").arg("venv").arg(&venv),
    )?;
    crate::ci::run_step(
        "install schemathesis",
        Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("schemathesis=={VERSION}"),
        ]),
    )?;
    if reports_version(&st) {
        Ok(st)
    } else {
        Err(format!(
            "{} does not report version {VERSION}",
            st.display()
        ))
    }
}

fn reports_version(st: &Path) -> bool {
    Command::new(st)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(VERSION))
}

/// The newest CPython on the machine, on the `PATH` or among pyenv's versions: 3.12 or later
/// when there is one, else 3.11.
fn find_python() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = ["python3.14", "python3.13", "python3.12", "python3"]
        .iter()
        .map(PathBuf::from)
        .collect();
    let pyenv_root = Command::new("pyenv")
        .arg("root")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(versions) = pyenv_root
        .map(|root| root.join("versions"))
        .and_then(|dir| std::fs::read_dir(dir).ok())
    {
        let mut found: Vec<PathBuf> = versions
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin/python3"))
            .filter(|path| path.is_file())
            .collect();
        found.sort();
        candidates.splice(0..0, found.into_iter().rev());
    }
    let mut best: Option<((u32, u32), PathBuf)> = None;
    for candidate in candidates {
        if let Some(version) = python_version(&candidate)
            && version >= (3, 11)
            && best.as_ref().is_none_or(|(v, _)| version > *v)
        {
            best = Some((version, candidate));
        }
    }
    match best {
        Some((version, path)) => {
            if version < (3, 12) {
                println!(
                    "schemathesis: no CPython 3.12+ found; using {} ({}.{})",
                    path.display(),
                    version.0,
                    version.1
                );
            }
            Ok(path)
        }
        None => Err(
            "schemathesis needs CPython 3.11 or later; none found on the PATH or in \
                     pyenv"
                .to_owned(),
        ),
    }
}

fn python_version(python: &Path) -> Option<(u32, u32)> {
    let output = Command::new(python)
        .args([
            "-c",
            "import sys; print(sys.version_info[0], sys.version_info[1])",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace().map(str::parse::<u32>);
    Some((parts.next()?.ok()?, parts.next()?.ok()?))
}
