//! `messaging-server`: the messaging service's HTTP entry point.

use clap::Parser;
use server::settings::Settings;
use server::startup::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = Settings::parse();
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
