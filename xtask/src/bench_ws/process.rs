//! The server process, its users and the machine's description, shared by the benchmarks and chaos.

use super::*;

// ---- Processes and users ----

/// Creates `count` active students named `{prefix}{i}` straight in the store.
pub(crate) async fn create_users(
    store: &Store,
    prefix: &str,
    count: usize,
) -> Result<Vec<messaging_domain::user::UserId>, String> {
    let mut ids = Vec::with_capacity(count);
    // A few at a time: each is its own transaction (and fsync).
    for chunk in (0..count).collect::<Vec<_>>().chunks(8) {
        let mut tasks = Vec::new();
        for &i in chunk {
            let store = store.clone();
            let account = NewAccount {
                username: Username::parse(&format!("{prefix}{i}")).map_err(|e| e.to_string())?,
                email: EmailAddress::parse(&format!("{prefix}{i}@example.test"))
                    .map_err(|e| e.to_string())?,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bm90LXVzZWQ$bm90LXVzZWQ".into(),
                first_name: String::new(),
                last_name: String::new(),
                role: Role::Student,
            };
            tasks.push(tokio::spawn(async move {
                store
                    .create_account(
                        account,
                        AuditRecord {
                            actor: None,
                            action: AuditAction::UserRegistered,
                            object_type: "user",
                            object_id: None,
                            at: Utc::now(),
                            client_addr: None,
                        },
                    )
                    .await
                    .map(|user| user.id)
                    .map_err(describe)
            }));
        }
        for task in tasks {
            ids.push(task.await.map_err(|e| e.to_string())??);
        }
    }
    Ok(ids)
}

/// Builds `messaging-server` in the release profile, or the debug one.
pub(crate) fn build_server(workspace: &Path, release: bool) -> Result<(), String> {
    let profile: &[&str] = if release { &["--release"] } else { &[] };
    eprintln!(
        "cargo build {}-p server --bin messaging-server",
        if release { "--release " } else { "" }
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .arg("build")
        .args(profile)
        .args(["-p", "server", "--bin", "messaging-server"])
        .current_dir(workspace)
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building the server failed ({status})"))
    }
}

/// `program` started through `sh` with its soft open-files limit raised to the hard limit (each
/// process holds one socket per connection; this needs no unsafe `setrlimit` here).
pub(crate) fn raised_open_files(program: &Path) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@""#)
        .arg(program);
    command
}

/// The release server as a benchmark starts it, as its own process: listening on 127.0.0.1:`port`,
/// on `database_url` with `data_dir`, the JWT `secret`, JSON logs at `warn` into `log`, and the
/// send limits off (the benchmarks measure throughput, not the abuse limits).
pub(crate) fn bench_server(
    bin: &Path,
    port: u16,
    database_url: &str,
    data_dir: &Path,
    secret: &str,
    log: &Path,
) -> Result<Command, String> {
    let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let mut command = raised_open_files(bin);
    command
        .env("MESSAGING_LISTEN", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database_url)
        .env("MESSAGING_DATA_DIR", data_dir)
        .env("MESSAGING_JWT_SECRET", secret)
        .env("MESSAGING_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .env("MESSAGING_SEND_PER_SECOND", "0")
        .env("MESSAGING_SEND_BURST", "0")
        .env("MESSAGING_SEND_PER_DAY", "0")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    Ok(command)
}

pub(crate) fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Polls `GET /readyz` until it answers 200 (30 s at most).
pub(crate) async fn wait_ready(port: u16, server: &mut Child, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let tail = || {
        std::fs::read_to_string(log)
            .map(|t| t.lines().rev().take(10).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    };
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!("the server exited ({status}):\n{}", tail()));
        }
        if readyz(port).await.unwrap_or(false) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the server was not ready in 30 s:\n{}", tail()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) async fn readyz(port: u16) -> Result<bool, std::io::Error> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).await?;
    conn.write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await?;
    Ok(answer.starts_with(b"HTTP/1.1 200"))
}

/// The commit the server was built from, and whether `crates/` had uncommitted changes.
pub(crate) fn git_state(workspace: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(workspace)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let head = run(&["rev-parse", "--short", "HEAD"]);
    let dirty = !run(&["status", "--porcelain", "--", "crates"]).is_empty();
    format!(
        "commit {head}{}",
        if dirty {
            " + uncommitted changes in crates/"
        } else {
            ""
        }
    )
}

pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    format!(
        "{cores} cores, {:.0} GiB RAM, shared by the server, the generator and PostgreSQL",
        memory as f64 / 1024.0 / 1024.0
    )
}
