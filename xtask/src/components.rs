//! The real components the attachment tests need besides PostgreSQL: an S3-compatible server that
//! verifies signatures (`s3s-fs`) and ClamAV's daemon with a test signature for EICAR. Each is
//! installed when missing, started on a free local port with a data directory of its own, handed
//! to the tests through environment variables, and stopped when [`Components`] is dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The s3s-fs release that builds on this toolchain.
const S3S_FS_VERSION: &str = "0.14.1";
/// The EICAR test file: harmless, and detected by every scanner as a test.
const EICAR: &str = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// Started components; stopped (and their temporary directories removed) on drop.
pub struct Components {
    children: Vec<(&'static str, Child)>,
    dirs: Vec<PathBuf>,
    env: Vec<(&'static str, String)>,
}

impl Components {
    /// Installs what is missing and starts both components.
    pub fn start() -> Result<Self, String> {
        let mut started = Self {
            children: Vec::new(),
            dirs: Vec::new(),
            env: Vec::new(),
        };
        started.start_s3()?;
        started.start_clamd()?;
        Ok(started)
    }

    /// The environment variables that tell the tests where the components are.
    pub fn env(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.env.iter().map(|(k, v)| (*k, v.as_str()))
    }

    fn temp_dir(&mut self, name: &str) -> Result<PathBuf, String> {
        let dir = std::env::temp_dir().join(format!("messaging-ci-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        self.dirs.push(dir.clone());
        Ok(dir)
    }

    fn start_s3(&mut self) -> Result<(), String> {
        let binary = s3s_fs_binary()?;
        let data = self.temp_dir("s3")?;
        let port = free_port()?;
        // Throw-away credentials for a throw-away server.
        let access_key = format!("ci-access-{}", std::process::id());
        let secret_key = format!("ci-secret-{}-{}", std::process::id(), port);
        println!("ci: starting s3s-fs on 127.0.0.1:{port}");
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", &access_key, "--secret-key", &secret_key])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        self.children.push(("s3s-fs", child));
        wait_for_port(port, Duration::from_secs(30), "s3s-fs")?;
        self.env.push((
            "MESSAGING_TEST_S3_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        ));
        self.env.push(("MESSAGING_TEST_S3_ACCESS_KEY", access_key));
        self.env.push(("MESSAGING_TEST_S3_SECRET_KEY", secret_key));
        Ok(())
    }

    fn start_clamd(&mut self) -> Result<(), String> {
        let binary = clamd_binary()?;
        let dir = self.temp_dir("clamd")?;
        let db = dir.join("db");
        std::fs::create_dir_all(&db).map_err(|e| format!("cannot create {}: {e}", db.display()))?;
        // The official databases need the network; one body signature for EICAR is enough to
        // tell a clean file from an infected one.
        let hex: String = EICAR.bytes().map(|b| format!("{b:02x}")).collect();
        write(
            &db.join("eicar.ndb"),
            &format!("Eicar-Test-Signature:0:*:{hex}\n"),
        )?;
        let port = free_port()?;
        let config = dir.join("clamd.conf");
        write(
            &config,
            &format!(
                "Foreground yes\nTCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {}\n\
                 LogFile {}\nStreamMaxLength 20M\nMaxFileSize 20M\nMaxScanSize 20M\n",
                db.display(),
                dir.join("clamd.log").display()
            ),
        )?;
        println!("ci: starting clamd on 127.0.0.1:{port}");
        let child = Command::new(&binary)
            .arg(format!("--config-file={}", config.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        self.children.push(("clamd", child));
        // clamd's own log says why it did not start (a bad signature file, a confined binary).
        wait_for_port(port, Duration::from_secs(60), "clamd").map_err(|err| {
            let log = std::fs::read_to_string(dir.join("clamd.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(10).collect();
            format!(
                "{err}; clamd.log ends:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })?;
        self.env
            .push(("MESSAGING_TEST_CLAMD", format!("127.0.0.1:{port}")));
        Ok(())
    }
}

impl Drop for Components {
    fn drop(&mut self) {
        for (name, child) in &mut self.children {
            // Only the processes started here, each by its own id.
            let _ = child.kill();
            let _ = child.wait();
            println!("ci: stopped {name}");
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// s3s-fs from `$MESSAGING_S3S_FS` or the cache (`~/.cache/messaging-ci/s3s-fs`), installed with
/// cargo there when missing.
fn s3s_fs_binary() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("MESSAGING_S3S_FS") {
        return Ok(PathBuf::from(path));
    }
    let home = std::env::var("HOME").map_err(|_| "HOME is not set".to_owned())?;
    let root = Path::new(&home).join(".cache/messaging-ci/s3s-fs");
    let binary = root.join("bin/s3s-fs");
    if binary.is_file() {
        return Ok(binary);
    }
    println!(
        "ci: installing s3s-fs {S3S_FS_VERSION} into {}",
        root.display()
    );
    let status = Command::new("cargo")
        .args(["install", &format!("s3s-fs@{S3S_FS_VERSION}")])
        .args(["--features", "binary", "--locked", "--root"])
        .arg(&root)
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if status.success() && binary.is_file() {
        Ok(binary)
    } else {
        Err(format!("installing s3s-fs failed ({status})"))
    }
}

/// clamd, installed from Debian's `clamav-daemon` when missing.
fn clamd_binary() -> Result<PathBuf, String> {
    let found = |dirs: &[&str]| {
        dirs.iter()
            .map(|d| Path::new(d).join("clamd"))
            .find(|p| p.is_file())
    };
    let dirs = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];
    if let Some(binary) = found(&dirs) {
        return Ok(binary);
    }
    println!("ci: clamd not found; installing Debian's clamav-daemon package");
    crate::ci::sh(
        "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq clamav-daemon >/dev/null",
    )?;
    found(&dirs).ok_or_else(|| "clamav-daemon installed but no clamd binary found".to_owned())
}

pub(crate) fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free local port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free local port: {e}"))
}

fn wait_for_port(port: u16, limit: Duration, name: &str) -> Result<(), String> {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let started = Instant::now();
    while started.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!(
        "{name} did not start listening on {addr} within {}s",
        limit.as_secs()
    ))
}
