//! The throwaway PostgreSQL cluster a chaos run owns.

use super::*;

// ---- PostgreSQL ----

/// A throwaway PostgreSQL cluster of this run's own, stopped and removed on drop.
pub(super) struct PrivatePostgres {
    pub(super) bin: PathBuf,
    pub(super) dir: PathBuf,
    pub(super) port: u16,
    /// Run its tools as `postgres` (`initdb` refuses root).
    pub(super) as_postgres: bool,
}

impl PrivatePostgres {
    pub(super) fn create() -> Result<Self, String> {
        let bin = postgres_bin_dir()?;
        let dir = std::env::temp_dir().join(format!("messaging-chaos-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cluster = Self {
            bin,
            dir,
            port: free_port()?,
            as_postgres: running_as_root(),
        };
        if cluster.as_postgres {
            run_quietly(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&cluster.dir),
            )?;
        }
        let data = cluster.data();
        cluster.tool(
            "initdb",
            &[
                "-D",
                &data,
                "--auth=trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        )?;
        cluster.start()?;
        Ok(cluster)
    }

    pub(super) fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    pub(super) fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub(super) fn start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("postgres.log").display().to_string();
        let data = self.data();
        let args = [
            "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
        ];
        self.tool("pg_ctl", &args)
    }

    /// Stops at once, without a checkpoint, as a crash would.
    pub(super) fn stop(&self) -> Result<(), String> {
        let data = self.data();
        self.tool("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
    }

    pub(super) fn tool(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(name);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        command.args(args);
        run_quietly(&mut command)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(super) fn run_quietly(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

pub(super) fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// PostgreSQL's server tools: Debian keeps each major version's under
/// `/usr/lib/postgresql/<version>/bin` (the newest is taken); elsewhere `pg_config` knows. When
/// there are none, Debian's package is installed, as `cargo xtask ci` does.
pub(super) fn postgres_bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = find_postgres_bin() {
        return Ok(dir);
    }
    println!("chaos: PostgreSQL not found; installing Debian's postgresql package");
    crate::ci::sh(
        "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq postgresql >/dev/null",
    )?;
    find_postgres_bin().ok_or_else(|| "no PostgreSQL server tools (initdb, pg_ctl) found".into())
}

pub(super) fn find_postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    bin.join("initdb").is_file().then_some(bin)
}
