//! `cargo xtask bench layers`: sends per second and latency through the real HTTP stack, next to the
//! same writes issued straight to the store and through the domain service, in the same run.
//!
//! The server runs in this process on its own worker threads (as `messaging-server` would); the
//! load comes from keep-alive HTTP/1.1 connections written by hand, so no client library's
//! overhead is measured as the server's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Args;
use messaging_domain::Change;
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::message::NewMessage;
use messaging_domain::ports::Messages;
use messaging_domain::text::MessageText;
use messaging_domain::user::{Role, UserId};
use messaging_domain::{Actor, RecipientRef, SendCommand, SendRoute};
use messaging_store::Store;

use crate::seed::describe;

#[derive(Debug, Args)]
pub struct LayersArgs {
    /// PostgreSQL database to use; it is dropped and created anew for each run.
    #[arg(
        long,
        env = "BENCH_LAYERS_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/messaging_bench_layers"
    )]
    database_url: String,
    /// Seconds each phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent senders (connections) in each phase.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Users the senders write as (each sends to the next).
    #[arg(long, default_value_t = 200)]
    users: i64,
}

struct Phase {
    name: &'static str,
    sends: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.sends as f64 / self.elapsed.as_secs_f64()
    }

    fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        sorted
            .get(((sorted.len().saturating_sub(1)) as f64 * q).round() as usize)
            .copied()
            .unwrap_or_default()
    }
}

const SECRET: &str = "bench-http-secret-bench-http-secret";

pub async fn layers(args: LayersArgs) -> Result<(), String> {
    if Store::kind_of(&args.database_url) != messaging_store::DatabaseKind::Postgres {
        return Err("bench layers needs a postgres:// URL".into());
    }
    let (admin_url, name) = args
        .database_url
        .rsplit_once('/')
        .map(|(base, name)| (format!("{base}/postgres"), name.to_owned()))
        .ok_or("bad database URL")?;
    Store::drop_databases_with_prefix(&admin_url, &name)
        .await
        .map_err(describe)?;

    let data_dir = std::env::temp_dir().join(format!("bench-layers-{}", std::process::id()));
    let mut settings = server::settings::Settings::defaults();
    settings.listen = "127.0.0.1:0".into();
    settings.data_dir = data_dir.clone();
    settings.database_url = Some(args.database_url.clone());
    settings.jwt_secret = Some(SECRET.into());
    // The benchmark measures throughput, not the abuse limits.
    settings.send_per_second = 0;
    settings.send_per_day = 0;
    Store::ensure_database(&args.database_url)
        .await
        .map_err(describe)?;
    let app = server::startup::Application::build(settings)
        .await
        .map_err(|e| format!("server: {e}"))?;
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());

    // Users and tokens, minted with the server's key instead of logging in (argon2 is not what
    // this measures).
    let store = state.store.clone();
    let ids = crate::bench_ws::create_users(
        &store,
        "load",
        usize::try_from(args.users).map_err(|e| e.to_string())?,
    )
    .await?;
    let keys = server::auth::TokenKeys::load(Some(SECRET), &data_dir, 3600, 3600, 1800)
        .map_err(|e| e.to_string())?;
    let now = Utc::now().timestamp();
    let tokens: Vec<String> = ids
        .iter()
        .map(|id| keys.issue_access(*id, Role::Student, 0, now))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let ids = Arc::new(ids);
    let tokens = Arc::new(tokens);
    let duration = Duration::from_secs(args.seconds);
    println!(
        "bench layers: {} users, {} concurrent senders, {} s per phase, server workers: one per core",
        args.users, args.concurrency, args.seconds
    );

    let concurrency = args.concurrency;
    let store_phase = run_phase(
        "store: insert_message (the ceiling)",
        args.concurrency,
        duration,
        {
            let ids = Arc::clone(&ids);
            let store = store.clone();
            move |worker, n| {
                let store = store.clone();
                let (from, to) = pair(&ids, worker, n, concurrency);
                async move {
                    store
                        .insert_message(
                            NewMessage {
                                sender_id: from,
                                recipient_id: to,
                                booking_id: None,
                                subject: None,
                                body: format!("Benchmark message {n} about calculus homework"),
                                parent_id: None,
                                client_message_id: None,
                                created_at: Utc::now(),
                            },
                            Change::new(audit(Some(from)), sent_plan(from, to)),
                        )
                        .await
                        .map(|_| ())
                        .map_err(describe)
                }
            }
        },
    )
    .await?;

    let service_phase = run_phase("domain service: send", args.concurrency, duration, {
        let ids = Arc::clone(&ids);
        let messaging = Arc::clone(&state.messaging);
        move |worker, n| {
            let messaging = Arc::clone(&messaging);
            let (from, to) = pair(&ids, worker, n, concurrency);
            async move {
                let body =
                    MessageText::parse(&format!("Benchmark message {n} about calculus homework"))
                        .map_err(|e| e.to_string())?;
                messaging
                    .send(
                        &Actor {
                            user_id: from,
                            client_addr: None,
                        },
                        SendCommand {
                            recipient: RecipientRef::Id(to),
                            body,
                            subject: None,
                            booking_id: None,
                            via: SendRoute::Direct,
                            client_message_id: None,
                        },
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    })
    .await?;

    let http_phase = run_http_phase(port, &ids, &tokens, args.concurrency, duration).await?;

    // The same sends through a second instance on the same database with the send limits on (so
    // generous that nothing is refused): what checking the shared limits costs a send.
    let mut limited = server::settings::Settings::defaults();
    limited.listen = "127.0.0.1:0".into();
    limited.data_dir = data_dir.clone();
    limited.database_url = Some(args.database_url.clone());
    limited.jwt_secret = Some(SECRET.into());
    limited.send_per_second = 1_000_000;
    limited.send_burst = 1_000_000;
    limited.send_per_day = u32::MAX;
    let limited_app = server::startup::Application::build(limited)
        .await
        .map_err(|e| format!("server: {e}"))?;
    let limited_port = limited_app.port();
    tokio::spawn(limited_app.run_until_stopped());
    let mut limited_phase =
        run_http_phase(limited_port, &ids, &tokens, args.concurrency, duration).await?;
    limited_phase.name = "HTTP: POST /api/messages, shared rate limits checked";

    let ceiling = store_phase.rate();
    println!();
    // The slowest send too: a rare stall (a checkpoint, a lock, the pool) hides behind p99.
    println!("| path | sends/s | p50 ms | p99 ms | max ms | share of the store ceiling |");
    println!("|---|---:|---:|---:|---:|---:|");
    for phase in [&store_phase, &service_phase, &http_phase, &limited_phase] {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {:.0} % |",
            phase.name,
            phase.rate(),
            phase.quantile(0.5).as_secs_f64() * 1000.0,
            phase.quantile(0.99).as_secs_f64() * 1000.0,
            phase.quantile(1.0).as_secs_f64() * 1000.0,
            phase.rate() / ceiling * 100.0
        );
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}

fn audit(actor: Option<UserId>) -> AuditRecord {
    AuditRecord {
        actor,
        action: if actor.is_some() {
            AuditAction::MessageSent
        } else {
            AuditAction::UserRegistered
        },
        object_type: "message",
        object_id: None,
        at: Utc::now(),
        client_addr: None,
    }
}

/// Sender and recipient for a worker's n-th send: workers own disjoint senders, each writing to
/// the next user, so every phase does the same writes.
fn pair(ids: &[UserId], worker: usize, n: usize, workers: usize) -> (UserId, UserId) {
    let count = ids.len();
    let from = (worker + n * workers) % count;
    (ids[from], ids[(from + 1) % count])
}

async fn run_phase<F, Fut>(
    name: &'static str,
    concurrency: usize,
    duration: Duration,
    op: F,
) -> Result<Phase, String>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                op(worker, n).await?;
                latencies.push(t.elapsed());
                n += 1;
            }
            Ok::<_, String>(latencies)
        }));
    }
    collect(name, started, tasks).await
}

async fn collect(
    name: &'static str,
    started: Instant,
    tasks: Vec<tokio::task::JoinHandle<Result<Vec<Duration>, String>>>,
) -> Result<Phase, String> {
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(Phase {
        name,
        sends: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    })
}

/// Sends through HTTP for `duration` (the A/B's own load, `bench_http::send_for`).
async fn run_http_phase(
    port: u16,
    ids: &Arc<Vec<UserId>>,
    tokens: &Arc<Vec<String>>,
    concurrency: usize,
    duration: Duration,
) -> Result<Phase, String> {
    let started = Instant::now();
    let latencies =
        crate::bench_http::send_for(port, ids, tokens, concurrency, duration, 0).await?;
    Ok(Phase {
        name: "HTTP: POST /api/messages",
        sends: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    })
}

/// What the domain appends for a send: the message to both parties' streams (the public faces are
/// placeholders of the same size class; the ceiling must do the stream writes the service does).
fn sent_plan(
    from: messaging_domain::user::UserId,
    to: messaging_domain::user::UserId,
) -> messaging_domain::event::EventPlan<messaging_domain::message::Message> {
    use messaging_domain::event::DomainEvent;
    use messaging_domain::message::MessageView;
    use messaging_domain::user::{Role, UserSummary};
    let face = |id| UserSummary {
        id,
        username: format!("bench{}", id.0),
        first_name: "Bench".into(),
        last_name: "User".into(),
        role: Role::Student,
    };
    let (sender, recipient) = (face(from), face(to));
    Box::new(move |m| {
        vec![
            DomainEvent::MessageSent {
                view: MessageView {
                    message: m.clone(),
                    sender,
                    recipient,
                },
                client_message_id: None,
            }
            .addressed(None),
        ]
    })
}
