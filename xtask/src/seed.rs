//! `cargo xtask seed`: demo data, or bulk data for benchmarks.

use std::time::Instant;

use argon2::{Argon2, PasswordHasher};
use chrono::Utc;
use clap::Args;
use messaging_domain::StoreError;
use messaging_domain::accounts::{EmailAddress, NewAccount, Username};
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::ports::{Credentials, People};
use messaging_domain::user::{BookingState, Role};
use messaging_store::Store;
use messaging_store::bulk::{self, BulkSpec};

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Database URL; default: `DATABASE_URL`, else the server's default SQLite file.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Bulk mode: number of users to generate.
    #[arg(long, requires = "messages")]
    users: Option<i64>,
    /// Bulk mode: number of messages to generate.
    #[arg(long, requires = "users")]
    messages: Option<i64>,
    /// Bulk mode: users who get `--power-conversations` conversations each.
    #[arg(long, default_value_t = 5)]
    power_users: i64,
    /// Bulk mode: conversations per power user.
    #[arg(long, default_value_t = 5000)]
    power_conversations: i64,
}

/// The demo password of every seeded account.
pub const DEMO_PASSWORD: &str = "password123";

/// Opens (creating and migrating as needed) the database at `url`.
pub async fn open(url: &str) -> Result<Store, String> {
    Store::ensure_database(url).await.map_err(describe)?;
    let store = Store::connect(url, 4).map_err(describe)?;
    store.migrate().await.map_err(describe)?;
    Ok(store)
}

pub fn describe(err: StoreError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing failed: {e}"))
}

pub async fn run(args: SeedArgs) -> Result<(), String> {
    let url = crate::default_database_url(args.database_url);
    let store = open(&url).await?;
    match (args.users, args.messages) {
        (Some(users), Some(messages)) => {
            let spec = BulkSpec {
                users,
                messages,
                power_users: args.power_users,
                power_conversations: args.power_conversations,
            };
            bulk_seed(&store, spec).await
        }
        _ => demo(&store).await,
    }
}

/// Generates bulk data and says how long it took.
pub async fn bulk_seed(store: &Store, spec: BulkSpec) -> Result<(), String> {
    let started = Instant::now();
    let report = bulk::seed(store, spec, &hash(DEMO_PASSWORD)?)
        .await
        .map_err(describe)?;
    println!(
        "bulk seed: {} users, {} conversations, {} messages in {:.1} s (users bulk1..bulk{}, password {DEMO_PASSWORD})\n  phases: {}",
        spec.users,
        report.conversations,
        spec.messages,
        started.elapsed().as_secs_f64(),
        spec.users,
        report.phases
    );
    Ok(())
}

pub(crate) async fn demo(store: &Store) -> Result<(), String> {
    let accounts = [
        ("alice", "Alice", "Student", Role::Student),
        ("tom", "Tom", "Tutor", Role::Tutor),
        ("pat", "Pat", "Patient", Role::Patient),
        ("drsmith", "Dana", "Smith", Role::Clinician),
        ("admin", "Ada", "Admin", Role::Admin),
    ];
    let password_hash = hash(DEMO_PASSWORD)?;
    let mut users = Vec::new();
    for (username, first, last, role) in accounts {
        let user = match store.user_by_username(username).await.map_err(describe)? {
            Some(existing) => existing,
            None => {
                let account = NewAccount {
                    username: Username::parse(username).map_err(|e| e.to_string())?,
                    email: EmailAddress::parse(&format!("{username}@example.test"))
                        .map_err(|e| e.to_string())?,
                    password_hash: password_hash.clone(),
                    first_name: first.to_owned(),
                    last_name: last.to_owned(),
                    role,
                };
                let audit = AuditRecord {
                    actor: None,
                    action: AuditAction::UserRegistered,
                    object_type: "user",
                    object_id: None,
                    at: Utc::now(),
                    client_addr: None,
                };
                store
                    .create_account(account, audit)
                    .await
                    .map_err(describe)?
            }
        };
        users.push(user);
    }
    let [alice, tom, pat, drsmith, _admin] = &users[..] else {
        return Err("seed: unexpected user list".into());
    };
    let booking = match store
        .bookings_between(alice.id, tom.id)
        .await
        .map_err(describe)?
        .into_iter()
        .next()
    {
        Some(b) => b,
        None => store
            .create_booking(alice.id, tom.id, BookingState::Scheduled, Utc::now())
            .await
            .map_err(describe)?,
    };
    store
        .assign_clinician(drsmith.id, pat.id, Utc::now())
        .await
        .map_err(describe)?;
    println!("Demo accounts (password: {DEMO_PASSWORD}):");
    for user in &users {
        println!(
            "  id {:>3}  {:<8}  {}",
            user.id.0,
            user.username,
            user.role.as_str()
        );
    }
    println!(
        "Booking {} between alice and tom is {}; patient pat is assigned to clinician drsmith.",
        booking.id.0,
        booking.state.as_str()
    );
    Ok(())
}
