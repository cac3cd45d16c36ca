//! `messaging-server admin create`: how an operator makes the first admin (or another one) with
//! the binary alone. The password is asked for twice without echo on a terminal, or read as one
//! line from standard input (`--password-stdin`) for scripts; it never appears in a flag, where
//! `ps` and shell histories would show it.

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;
use messaging_domain::accounts::Password;
use messaging_domain::accounts::{EmailAddress, NewAccount, Username, parse_name};
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::ports::Credentials;
use messaging_domain::user::Role;
use messaging_store::Store;

use crate::auth::hash_password;
use crate::settings::Settings;

/// What `admin create` was given on the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateAdmin {
    /// The admin's user name (3 to 32 letters, digits, `.`, `_`, `-`).
    #[arg(long)]
    pub username: String,
    /// The admin's email address.
    #[arg(long)]
    pub email: String,
    /// Given name.
    #[arg(long)]
    pub first_name: Option<String>,
    /// Family name.
    #[arg(long)]
    pub last_name: Option<String>,
    /// Read the password as one line from standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Creates the admin account in the configured database (migrating it first, as start-up does).
///
/// # Errors
/// A sentence saying what went wrong.
pub async fn create_admin(settings: &Settings, args: CreateAdmin) -> Result<String, String> {
    let username = Username::parse_new(&args.username).map_err(|e| e.to_string())?;
    let email = EmailAddress::parse(&args.email).map_err(|e| e.to_string())?;
    let first_name =
        parse_name(args.first_name.as_deref(), "first_name").map_err(|e| e.to_string())?;
    let last_name =
        parse_name(args.last_name.as_deref(), "last_name").map_err(|e| e.to_string())?;
    let password = if args.password_stdin || !std::io::stdin().is_terminal() {
        read_line()?
    } else {
        let first = prompt("Password for the new admin: ")?;
        let again = prompt("The same password again: ")?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        first
    };
    let password = Password::parse_new(password, "password").map_err(|e| e.to_string())?;
    let hash = hash_password(password.expose()).map_err(|e| e.to_string())?;

    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", settings.data_dir.display()))?;
    let store = Store::connect(&settings.database_url(), 1).map_err(|e| e.to_string())?;
    store
        .migrate()
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let account = NewAccount {
        username,
        email,
        password_hash: hash,
        first_name,
        last_name,
        role: Role::Admin,
    };
    let audit = AuditRecord {
        actor: None,
        action: AuditAction::UserRegistered,
        object_type: "user",
        object_id: None,
        at: Utc::now(),
        client_addr: None,
    };
    let user = store
        .create_account(account, audit)
        .await
        .map_err(|e| match e {
            messaging_domain::StoreError::Duplicate(
                messaging_domain::Unique::Username | messaging_domain::Unique::Email,
            ) => "an account with this username or email already exists".to_owned(),
            other => format!("cannot create the account: {other}"),
        })?;
    Ok(format!(
        "created admin {} (id {}); log in at the server's URL",
        user.username, user.id.0
    ))
}

fn read_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Asks on the terminal with echo turned off (through `stty`, so no terminal crate is needed).
fn prompt(question: &str) -> Result<String, String> {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{question}");
    let _ = stderr.flush();
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    let hidden = stty("-echo");
    let line = read_line();
    if hidden {
        stty("echo");
    }
    let _ = writeln!(stderr);
    line
}
