//! Readiness: whether the database answers within two seconds, for `GET /readyz`.

use std::time::Duration;

use messaging_store::Store;

use crate::problem::Problem;

/// How long the database may take to answer the probe.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The readiness check over the store.
#[derive(Debug, Clone)]
pub struct Readiness {
    store: Store,
}

impl Readiness {
    /// A check of `store`.
    #[must_use]
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Pings the database.
    ///
    /// # Errors
    /// [`NotReady`] when it does not answer in time or answers with an error; a panicked ping is
    /// a server fault.
    pub async fn check(&self) -> Result<(), Problem> {
        // The ping runs in a task of its own, which the timeout leaves to finish: a store call
        // dropped in flight must not happen (see `startup::log_request`).
        let store = self.store.clone();
        let ping = tokio::time::timeout(
            PING_TIMEOUT,
            actix_web::rt::spawn(async move { store.ping().await }),
        )
        .await;
        match ping {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Err(err)) => Err(Problem::internal(&err)),
            Ok(Ok(Err(err))) => {
                tracing::warn!(error = %crate::problem::error_chain(&err), "database not ready");
                Err(NotReady.into())
            }
            Err(_) => {
                tracing::warn!("database ping timed out");
                Err(NotReady.into())
            }
        }
    }
}

/// The database does not answer.
#[derive(Debug)]
pub struct NotReady;

impl From<NotReady> for Problem {
    fn from(NotReady: NotReady) -> Self {
        Problem::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "DATABASE_UNAVAILABLE",
            "Service unavailable",
            "The database is not reachable",
        )
    }
}

impl crate::problem::doc::Documented for NotReady {
    fn problems() -> Vec<Problem> {
        vec![NotReady.into()]
    }
}
