//! `messaging-server`: the messaging service's HTTP entry point, and `messaging-server admin
//! create` for making the first admin.

use clap::{Parser, Subcommand};
use server::admin_cli::{CreateAdmin, create_admin};
use server::settings::Settings;
use server::startup::Application;

/// jemalloc instead of glibc's malloc, with its background thread purging freed pages: after
/// 10 000 WebSockets closed, glibc kept the server's resident memory at its peak (its arenas give
/// memory back only from their top), see docs/benchmarks.md (`bench ws`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
#[command(name = "messaging-server", version, about = "Direct-messaging service")]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Accounts, for operators.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin account (asks for its password).
    Create(CreateAdmin),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Freed pages go back to the system within jemalloc's decay time (10 s) even while the
    // server is idle; without the thread they wait for the next allocation in their arena.
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    let cli = Cli::parse();
    let settings = cli.settings;
    if let Some(Command::Admin(AdminCommand::Create(args))) = cli.command {
        return match create_admin(&settings, args).await {
            Ok(done) => {
                println!("{done}");
                std::process::ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("admin create: {err}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    server::telemetry::init(settings.log_format);
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = %server::problem::error_chain(&err), "start-up failed");
            return std::process::ExitCode::FAILURE;
        }
    };
    // The one line a person running the service needs.
    println!("messaging-server listening on {}", app.url());
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "server stopped with an error");
            std::process::ExitCode::FAILURE
        }
    }
}
