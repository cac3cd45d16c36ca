//! `cargo xtask audit verify`: walks the audit log's hash chain and says whether it is intact.

use clap::Subcommand;
use messaging_store::{DatabaseKind, Store};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recomputes every audit entry's hash in id order; exits 1 naming the first entry that was
    /// changed or that follows a removed one.
    Verify {
        /// Database URL; default: `DATABASE_URL`, else the server's default SQLite file.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
}

pub async fn run(command: AuditCommand) -> Result<(), String> {
    match command {
        AuditCommand::Verify { database_url } => verify(database_url).await,
    }
}

async fn verify(database_url: Option<String>) -> Result<(), String> {
    let url = crate::default_database_url(database_url);
    // Verification only reads: a mistyped SQLite path must not create an empty database that then
    // passes as an intact one.
    if Store::kind_of(&url) == DatabaseKind::Sqlite {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(&url);
        if !std::path::Path::new(path).is_file() {
            return Err(format!("no SQLite database at {path}"));
        }
    }
    let store = Store::connect(&url, 1).map_err(crate::seed::describe)?;
    let verdict = store
        .verify_audit_chain()
        .await
        .map_err(crate::seed::describe)?;
    let unsealed = if verdict.unsealed > 0 {
        format!(
            " (and {} older entries from before the chain, which it cannot vouch for)",
            verdict.unsealed
        )
    } else {
        String::new()
    };
    match verdict.broken {
        None => {
            println!(
                "audit chain intact: {} {}{unsealed}",
                verdict.checked,
                if verdict.checked == 1 {
                    "entry"
                } else {
                    "entries"
                }
            );
            Ok(())
        }
        Some(broken) => Err(format!(
            "audit chain broken: {broken} ({} entries before it verified){unsealed}",
            verdict.checked
        )),
    }
}
