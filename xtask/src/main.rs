//! `cargo xtask`: developer tasks. `migrate`, `seed`, `bench db|http|ws|mask|abuse`, `audit verify`,
//! `chaos` (sends through server kills and PostgreSQL restarts, then checks nothing was lost or
//! doubled), `schemathesis`, `screenshots` and `ci` (the whole test suite, provisioning PostgreSQL
//! when it is missing).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod audit;
mod bench;
mod bench_abuse;
mod bench_http;
mod bench_layers;
mod bench_mask;
mod bench_ws;
mod bench_ws_load;
mod browser;
mod chaos;
mod ci;
mod components;
mod http1;
mod schemathesis;
mod seed;
mod ws1;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Developer tasks for the messaging service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Applies pending migrations (creating the PostgreSQL database when missing).
    Migrate {
        /// Database URL; default: `DATABASE_URL`, else the server's default SQLite file.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Seeds demo users for every role, a booking and a care assignment, and prints credentials;
    /// with `--users`/`--messages`, generates bulk data instead (PostgreSQL).
    Seed(seed::SeedArgs),
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        which: audit::AuditCommand,
    },
    /// Sends messages with idempotency keys while the server is killed (SIGKILL) and restarted
    /// and a private PostgreSQL is restarted, then proves from the recipients' side that every
    /// acknowledged message is stored and delivered exactly once and every stream is gap-free.
    Chaos(chaos::ChaosArgs),
    /// Runs the whole test suite as CI does: provisions PostgreSQL when missing, runs every test
    /// (PostgreSQL tests required, not skipped), a short `chaos` run, schemathesis, the browser
    /// tests, then clippy and rustfmt.
    Ci,
    /// Screenshots of the main screens of the web client, desktop and phone width (PNG), taken
    /// in Debian's chromium (installed when missing).
    Screenshots {
        /// Where the PNGs go.
        #[arg(long, default_value = "docs/screenshots")]
        out: std::path::PathBuf,
    },
    /// Tests the served OpenAPI document with schemathesis (all checks) on SQLite and PostgreSQL,
    /// as a normal user and as an admin; installs schemathesis into ~/.cache/messaging-ci.
    Schemathesis(schemathesis::StArgs),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Store-level latency of the thread list, search and history at scale (PostgreSQL).
    Db(bench::DbArgs),
    /// An A/B of the send path: this checkout's release server against a baseline commit's, each
    /// its own process on a fresh PostgreSQL database, at 16 and 64 connections: sends/s,
    /// latency, server and PostgreSQL CPU per send, statements per send.
    Http(bench_http::HttpArgs),
    /// Sends per second through HTTP in this process, next to the same writes issued straight
    /// to the store and through the domain service, and with the shared rate limits checked.
    Layers(bench_layers::LayersArgs),
    /// WebSockets: 10 000 held connections on one server process, memory per idle connection,
    /// and delivery latency (HTTP send to the recipient's frame) at fixed rates (PostgreSQL).
    /// The server and the load generator run as separate processes.
    Ws(bench_ws::WsArgs),
    /// The cost of masking contact details: adversarial inputs against ordinary prose at 1 000
    /// and 10 000 characters, in the debug and the release build.
    Mask(bench_mask::MaskArgs),
    /// Memory and CPU under attack: an oversized WebSocket frame, a login storm, registrations and
    /// logins in sequence, a multipart body with a huge preamble. Each against a fresh release
    /// server (SQLite) run as a separate process: peak and settled RSS against a same-run
    /// baseline, CPU time, and what the client got.
    Abuse(bench_abuse::AbuseArgs),
    /// The load generator of `bench ws`, run by it as a separate process.
    #[command(name = "ws-load", hide = true)]
    WsLoad(bench_ws_load::WsLoadArgs),
}

/// The server's default database, for commands given no URL.
pub fn default_database_url(given: Option<String>) -> String {
    given.unwrap_or_else(|| "sqlite://./data/messaging.db".to_owned())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ci => ci::run(),
        Command::Screenshots { out } => browser::screenshots(&out),
        Command::Bench {
            which: BenchCommand::Mask(args),
        } => bench_mask::mask(args),
        Command::Schemathesis(args) => schemathesis::run(&args),
        command => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(async_main(command)),
            Err(e) => Err(format!("cannot start the async runtime: {e}")),
        },
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn async_main(command: Command) -> Result<(), String> {
    match command {
        Command::Migrate { database_url } => {
            let url = default_database_url(database_url);
            let store = seed::open(&url).await?;
            println!("migrations applied ({:?})", store.kind());
            Ok(())
        }
        Command::Seed(args) => seed::run(args).await,
        Command::Bench {
            which: BenchCommand::Db(args),
        } => bench::db(args).await,
        Command::Bench {
            which: BenchCommand::Http(args),
        } => bench_http::http(args).await,
        Command::Bench {
            which: BenchCommand::Layers(args),
        } => bench_layers::layers(args).await,
        Command::Bench {
            which: BenchCommand::Ws(args),
        } => bench_ws::ws(args).await,
        Command::Bench {
            which: BenchCommand::Abuse(args),
        } => bench_abuse::abuse(args).await,
        Command::Bench {
            which: BenchCommand::WsLoad(args),
        } => bench_ws_load::run(args).await,
        Command::Bench {
            which: BenchCommand::Mask(_),
        } => Err("unreachable".into()),
        Command::Audit { which } => audit::run(which).await,
        Command::Chaos(args) => chaos::run(args).await,
        Command::Ci | Command::Screenshots { .. } | Command::Schemathesis(_) => {
            Err("unreachable".into())
        }
    }
}
