//! `cargo xtask bench db`: store-level latency at scale, against a baseline measured in the same
//! run (a primary-key lookup: one round trip to the database).

use std::future::Future;
use std::time::{Duration, Instant};

use clap::Args;
use messaging_domain::message::{HistoryRequest, MessageId};
use messaging_domain::ports::{MessageQueries, People};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize, SearchQuery};
use messaging_domain::user::UserId;
use messaging_store::bulk::{BulkSpec, VOCABULARY};
use messaging_store::{DatabaseKind, Store};

use crate::seed::{bulk_seed, describe, open};

#[derive(Debug, Args)]
pub struct DbArgs {
    /// PostgreSQL database to use (created and bulk-seeded when empty).
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/messaging_bench"
    )]
    database_url: String,
    /// Users to seed.
    #[arg(long, default_value_t = 10_000)]
    users: i64,
    /// Messages to seed.
    #[arg(long, default_value_t = 1_000_000)]
    messages: i64,
    /// Power users (each with `--power-conversations` conversations).
    #[arg(long, default_value_t = 5)]
    power_users: i64,
    /// Conversations per power user.
    #[arg(long, default_value_t = 5000)]
    power_conversations: i64,
    /// Timed calls per operation.
    #[arg(long, default_value_t = 500)]
    iterations: usize,
}

/// A tiny deterministic generator, so runs pick the same users and words.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

struct Stats {
    name: &'static str,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

async fn measure<F, Fut>(name: &'static str, iterations: usize, mut op: F) -> Result<Stats, String>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<usize, String>>,
{
    // Warm-up: fill caches and the connection pool before timing.
    for i in 0..iterations.min(50) {
        op(i).await?;
    }
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let started = Instant::now();
        op(i).await?;
        samples.push(started.elapsed());
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Ok(Stats {
        name,
        p50: at(0.5),
        p99: at(0.99),
        max: at(1.0),
    })
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

pub async fn db(args: DbArgs) -> Result<(), String> {
    if Store::kind_of(&args.database_url) != DatabaseKind::Postgres {
        return Err("bench db needs a postgres:// URL".into());
    }
    let store = open(&args.database_url).await?;
    let count = store.message_count().await.map_err(describe)?;
    if count == 0 {
        bulk_seed(
            &store,
            BulkSpec {
                users: args.users,
                messages: args.messages,
                power_users: args.power_users,
                power_conversations: args.power_conversations,
            },
        )
        .await?;
    } else if count < args.messages {
        return Err(format!(
            "the bench database holds {count} messages, fewer than --messages; drop it or pass another --database-url"
        ));
    }
    let report = store.bulk_report().await.map_err(describe)?;
    let messages = store.message_count().await.map_err(describe)?;
    let first = report.first_user_id;
    let power: Vec<UserId> = (0..args.power_users).map(|i| UserId(first + i)).collect();
    let regular_count = (args.users - args.power_users).max(1) as u64;
    let regular =
        |rng: &mut Rng| UserId(first + args.power_users + rng.below(regular_count) as i64);
    let limit = PageSize::parse(Some(100), LimitSpec::THREADS).map_err(|e| e.to_string())?;
    let search_page = Page {
        number: PageNumber::first(),
        size: PageSize::parse(None, LimitSpec::SEARCH).map_err(|e| e.to_string())?,
    };
    let history_page = Page {
        number: PageNumber::first(),
        size: PageSize::parse(None, LimitSpec::HISTORY).map_err(|e| e.to_string())?,
    };
    let n = args.iterations;
    println!(
        "database: {messages} messages, {} users ({} power users with {} conversations each), {} conversations; {n} timed calls per row",
        args.users, args.power_users, args.power_conversations, report.conversations
    );

    let mut results = Vec::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    results.push(
        measure("baseline: user by primary key", n, |_| {
            let id = regular(&mut rng);
            let store = &store;
            async move { Ok(store.user(id).await.map_err(describe)?.map_or(0, |_| 1)) }
        })
        .await?,
    );
    results.push(
        measure("thread list, power user (limit 100)", n, |i| {
            let user = power[i % power.len()];
            let store = &store;
            async move { Ok(store.threads(user, limit).await.map_err(describe)?.len()) }
        })
        .await?,
    );
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    results.push(
        measure("thread list, regular user (limit 100)", n, |_| {
            let user = regular(&mut rng);
            let store = &store;
            async move { Ok(store.threads(user, limit).await.map_err(describe)?.len()) }
        })
        .await?,
    );
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    results.push(
        measure("search, power user (1 word, page of 20)", n, |i| {
            let user = power[i % power.len()];
            let word = VOCABULARY[rng.below(VOCABULARY.len() as u64) as usize];
            let store = &store;
            async move {
                let q = SearchQuery::parse(word).map_err(|e| e.to_string())?;
                Ok(store
                    .search(user, &q, search_page)
                    .await
                    .map_err(describe)?
                    .messages
                    .len())
            }
        })
        .await?,
    );
    let mut rng = Rng(0x5851_F42D_4C95_7F2D);
    results.push(
        measure("search, power user (2 words, page of 20)", n, |i| {
            let user = power[i % power.len()];
            let words = format!(
                "{} {}",
                VOCABULARY[rng.below(VOCABULARY.len() as u64) as usize],
                VOCABULARY[rng.below(VOCABULARY.len() as u64) as usize]
            );
            let store = &store;
            async move {
                let q = SearchQuery::parse(&words).map_err(|e| e.to_string())?;
                Ok(store
                    .search(user, &q, search_page)
                    .await
                    .map_err(describe)?
                    .messages
                    .len())
            }
        })
        .await?,
    );
    let mut rng = Rng(0x94D0_49BB_1331_11EB);
    results.push(
        measure("search, regular user (2 words, page of 20)", n, |_| {
            let user = regular(&mut rng);
            let words = format!(
                "{} {}",
                VOCABULARY[rng.below(VOCABULARY.len() as u64) as usize],
                VOCABULARY[rng.below(VOCABULARY.len() as u64) as usize]
            );
            let store = &store;
            async move {
                let q = SearchQuery::parse(&words).map_err(|e| e.to_string())?;
                Ok(store
                    .search(user, &q, search_page)
                    .await
                    .map_err(describe)?
                    .messages
                    .len())
            }
        })
        .await?,
    );
    // History needs a partner: the power user's first thread.
    let mut partners = Vec::new();
    for user in &power {
        if let Some(t) = store
            .threads(*user, limit)
            .await
            .map_err(describe)?
            .into_iter()
            .next()
        {
            partners.push((*user, t.other_user.id));
        }
    }
    if !partners.is_empty() {
        results.push(
            measure("history, newest page of 50", n, |i| {
                let (user, other) = partners[i % partners.len()];
                let store = &store;
                async move {
                    let request = HistoryRequest {
                        before: None::<MessageId>,
                        page: history_page,
                    };
                    Ok(store
                        .history(user, other, None, request)
                        .await
                        .map_err(describe)?
                        .messages
                        .len())
                }
            })
            .await?,
        );
    }

    let baseline = results[0].p50.as_secs_f64();
    println!();
    println!("| operation | p50 ms | p99 ms | max ms | p50 / baseline |");
    println!("|---|---:|---:|---:|---:|");
    for r in &results {
        println!(
            "| {} | {} | {} | {} | {:.1}x |",
            r.name,
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            r.p50.as_secs_f64() / baseline
        );
    }
    Ok(())
}
