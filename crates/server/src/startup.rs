//! Start-up: `Application::build(settings)` connects and migrates the store, builds the domain
//! service over its adapters and binds the listener (port 0 in tests); `run_until_stopped` serves.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpServer, web};
use chrono::TimeDelta;
use messaging_domain::service::accounts::{AccountService, CredentialPolicy};
use messaging_domain::user::Role;
use messaging_domain::{AttachmentConfig, AttachmentService};
use messaging_domain::{MessagingConfig, MessagingService, StoreError};
use messaging_store::{DatabaseKind, Store};
use tracing::Instrument;

use crate::accounts::{Argon2Hasher, StatusCache};
use crate::auth::{KeyError, TokenKeys};
use crate::clock::SystemClock;
use crate::metrics::{self, Metrics, UNMATCHED_ROUTE};
use crate::problem::{json_error, path_error, query_error};
use crate::realtime::Hub;
use crate::routes;
use crate::settings::Settings;
use crate::state::AppState;
use crate::telemetry::{REQUEST_ID_HEADER, request_id};

/// How long in-flight requests may take to finish once a shutdown has begun.
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("database")]
    Database(#[from] StoreError),
    /// The token keys could not be set up.
    #[error("token keys")]
    Keys(#[from] KeyError),
    /// A setting has an unusable value.
    #[error("invalid setting {0}")]
    Setting(&'static str),
    /// The password hashing threads could not be started.
    #[error("password hashing threads")]
    Hashing(#[source] std::io::Error),
    /// The attachment storage or scanner could not be set up.
    #[error("attachments")]
    Attachments(#[from] crate::attachments::AttachmentSetupError),
    /// The listener could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address.
        address: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A built server, bound and ready to run.
pub struct Application {
    port: u16,
    host: String,
    server: Server,
    state: AppState,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Opens the store (applying migrations), builds the service and binds the listener.
    ///
    /// # Errors
    /// [`StartupError`] naming what failed.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| StartupError::DataDir {
            path: settings.data_dir.display().to_string(),
            source,
        })?;
        let database_url = settings.database_url();
        let store = Store::connect(&database_url, settings.db_pool_size)?;
        store.migrate().await?;
        let kind = match store.kind() {
            DatabaseKind::Postgres => "postgres",
            DatabaseKind::Sqlite => "sqlite",
        };
        tracing::info!(database = kind, "database ready");

        let default_role =
            Role::parse(&settings.default_role).ok_or(StartupError::Setting("default_role"))?;
        let tokens = TokenKeys::load(
            settings.jwt_secret.as_deref(),
            &settings.data_dir,
            settings.access_token_ttl_secs,
            settings.refresh_token_ttl_secs,
            settings.session_idle_secs,
        )?;
        let hash_threads = settings.hash_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let passwords = crate::passwords::PasswordHasher::start(hash_threads, settings.hash_queue)
            .map_err(StartupError::Hashing)?;
        let statuses = StatusCache::new(store.clone());
        let hub = Hub::new(store.clone(), settings.ws_queue, statuses.clone());
        hub.start(TimeDelta::hours(i64::from(
            settings.event_retention_hours.max(1),
        )));
        let config = MessagingConfig {
            edit_window: TimeDelta::seconds(i64::from(settings.edit_window_secs)),
            ..MessagingConfig::default()
        };
        let messaging = MessagingService::new(store.clone(), hub.clone(), SystemClock, config);
        let admin = messaging_domain::AdminService::new(
            store.clone(),
            store.clone(),
            hub.clone(),
            SystemClock,
        );
        let accounts = AccountService::new(
            store.clone(),
            store.clone(),
            statuses,
            Argon2Hasher::new(passwords)?,
            hub.clone(),
            SystemClock,
            CredentialPolicy {
                session_idle: TimeDelta::seconds(i64::from(settings.session_idle_secs.max(1))),
                session_max_age: TimeDelta::seconds(i64::from(settings.session_max_secs.max(1))),
                refresh_ttl: TimeDelta::seconds(i64::from(settings.refresh_token_ttl_secs.max(1))),
                ticket_ttl: TimeDelta::seconds(i64::from(settings.ws_ticket_secs.max(1))),
            },
        );
        // The limiters are shared by every worker, so a limit holds across the whole process.
        let rate_limits = Arc::new(
            crate::rate_limit::RateLimits::new(&settings).shared_through(&store, &settings),
        );
        rate_limits.start_sweeping();
        crate::search_upkeep::spawn(store.clone(), settings.search_upkeep_secs);
        let link_key = crate::auth::derived_key(
            settings.jwt_secret.as_deref(),
            &settings.data_dir,
            "file-links",
        )?;
        let files = Arc::new(crate::attachments::open_storage(&settings, link_key).await?);
        let scanner = crate::attachments::open_scanner(&settings).await?;
        let attachments = Arc::new(AttachmentService::new(
            store.clone(),
            Arc::clone(&files),
            scanner,
            hub.clone(),
            store.clone(),
            SystemClock,
            AttachmentConfig {
                link_ttl_secs: settings.attachment_link_ttl_secs,
                abandon_uploads_after_secs: settings.upload_abandon_secs,
            },
        ));
        let scan_wakeup = Arc::new(tokio::sync::Notify::new());
        crate::attachments::spawn_scan_worker(Arc::clone(&attachments), Arc::clone(&scan_wakeup));
        crate::attachments::spawn_upload_sweeper(
            Arc::clone(&attachments),
            settings.upload_abandon_secs,
        );
        let people = messaging_domain::people::PeopleService::new(
            store.clone(),
            store.clone(),
            store.clone(),
        );
        let presence = messaging_domain::PresenceService::new(
            store.clone(),
            store.clone(),
            hub.clone(),
            SystemClock,
        );
        let state = AppState {
            presence: Arc::new(presence),
            readiness: crate::readiness::Readiness::new(store.clone()),
            people: Arc::new(people),
            attachments,
            files,
            scan_wakeup,
            upload_dir: crate::attachments::upload_dir(&settings.data_dir)?,
            messaging: Arc::new(messaging),
            admin: Arc::new(admin),
            accounts: Arc::new(accounts),
            trusted_proxies: Arc::new(
                crate::forwarded::TrustedProxies::parse(&settings.trusted_proxies)
                    .map_err(|_| StartupError::Setting("trusted_proxies"))?,
            ),
            store,
            tokens: Arc::new(tokens),
            default_role,
            hub: hub.clone(),
            realtime: Arc::new(crate::routes::realtime::RealtimeSettings::from_settings(
                &settings,
            )),
            rate_limits,
        };

        let listener =
            TcpListener::bind(&settings.listen).map_err(|source| StartupError::Bind {
                address: settings.listen.clone(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind {
            address: settings.listen.clone(),
            source,
        })?;
        let data = web::Data::new(state.clone());
        let web_client = web::Data::new(crate::web::WebClient::new(&settings));
        // One set of metrics for all workers, so a scrape counts every request.
        let metrics = Arc::new(Metrics::new());
        // Which methods each path has, for the 405 of a method it does not.
        let methods = web::Data::new(crate::openapi::MethodTable::new(
            &crate::openapi::document(),
            routes::UNDOCUMENTED_ROUTES,
        ));
        let mut server = HttpServer::new(move || {
            let request_metrics = Arc::clone(&metrics);
            App::new()
                .app_data(data.clone())
                .app_data(web_client.clone())
                .app_data(methods.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(64 * 1024)
                        .error_handler(|err, _req| json_error(err).into()),
                )
                .app_data(
                    web::QueryConfig::default().error_handler(|err, _req| query_error(err).into()),
                )
                .app_data(
                    web::PathConfig::default()
                        .error_handler(|err, req| path_error(err, req).into()),
                )
                .wrap(from_fn(crate::json_object::bodies_are_objects))
                .wrap(from_fn(move |req: ServiceRequest, next: Next<_>| {
                    log_request(Arc::clone(&request_metrics), req, next)
                }))
                .configure(routes::configure)
                .service(metrics::resource(Arc::clone(&metrics)))
                .default_service(web::to(no_route))
        })
        .on_connect({
            let send_buffer = settings.tcp_send_buffer;
            move |conn, _| {
                if let (Some(size), Some(tcp)) = (
                    send_buffer,
                    conn.downcast_ref::<actix_web::rt::net::TcpStream>(),
                ) && let Err(err) = socket2::SockRef::from(tcp).set_send_buffer_size(size)
                {
                    tracing::warn!(error = %err, "cannot set the send buffer size");
                }
            }
        })
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .shutdown_signal({
            let hub = hub.clone();
            async move {
                shutdown_requested().await;
                // Open WebSockets would hold the graceful shutdown until its timeout.
                hub.shut_down();
            }
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            address: settings.listen.clone(),
            source,
        })?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        let host = match local.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            ip => ip.to_string(),
        };
        Ok(Self {
            port: local.port(),
            host,
            server: server.run(),
            state,
        })
    }

    /// The bound port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL to open.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// The shared state (for tests and embedding).
    #[must_use]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops the server the way SIGTERM does: every WebSocket is closed with 1001, then
    /// in-flight requests get [`SHUTDOWN_TIMEOUT_SECS`] to finish. Resolves when it has stopped.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            hub: self.state.hub.clone(),
            server: self.server.handle(),
        }
    }

    /// Serves until the process is told to stop (SIGINT or SIGTERM; in-flight requests get
    /// [`SHUTDOWN_TIMEOUT_SECS`] to finish).
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Stops a running [`Application`] (see [`Application::stop_handle`]).
#[derive(Clone)]
pub struct StopHandle {
    hub: Hub,
    server: actix_web::dev::ServerHandle,
}

impl std::fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopHandle").finish_non_exhaustive()
    }
}

impl StopHandle {
    /// Closes every WebSocket (1001) and stops the server gracefully.
    pub async fn stop(&self) {
        self.hub.shut_down();
        self.server.stop(true).await;
    }
}

/// Answers a request no route took: 405 with `Allow` when the path exists with other methods
/// (TRACE included), else 404.
async fn no_route(
    req: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, crate::problem::Problem> {
    Err(crate::problem::Problem::no_route(&req))
}

/// Resolves, logging "shutting down", once SIGTERM or SIGINT arrives. Both start a graceful
/// shutdown: actix-web's own handler would stop at once on SIGINT, dropping in-flight requests.
async fn shutdown_requested() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let interrupt = async {
        // Without a handler, an error here would look like Ctrl-C and stop the server at once.
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let signal = tokio::select! {
        () = terminate => "SIGTERM",
        () = interrupt => "SIGINT",
    };
    tracing::info!(signal, "shutting down");
}

/// Gives each request an id (the caller's `X-Request-Id` when sane, else a new UUID), echoes it
/// in the response and handles the request inside a span carrying it, so every line logged on
/// its behalf names it. Then writes one log line per request: method, route pattern (never the
/// raw path or query string, which can carry search terms), status and duration; and records
/// the same in the request metrics.
async fn log_request(
    metrics: Arc<Metrics>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = request_id(req.headers());
    // At error level the span stays enabled whatever `RUST_LOG` lets through, so no line
    // logged for this request can lose its id.
    let span = tracing::error_span!("request", request_id = %request_id);
    let method = req.method().clone();
    // Handlers and extractors turn their errors into responses, so every request they see is
    // logged and counted below; an `Err` could only come from a middleware inside this one.
    // Every request runs to completion in a task of its own, even when its client goes away
    // meanwhile: a handler dropped halfway would drop a store call in flight, and SQLite's
    // blocking connection wrapper cannot be cancelled on a worker's single-threaded runtime (it
    // panics). A change a client started is then finished or rolled back, never cut off.
    let mut response = actix_web::rt::spawn(next.call(req).instrument(span.clone()))
        .await
        .map_err(|err| actix_web::Error::from(crate::problem::Problem::internal(&err)))??;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    metrics.observe(&method, &route, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(%method, %route, status, elapsed_ms, "request");
        } else {
            tracing::info!(%method, %route, status, elapsed_ms, "request");
        }
    });
    Ok(response)
}
