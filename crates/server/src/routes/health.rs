//! Liveness and readiness.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::problem::Problem;
use crate::state::AppState;

/// `GET /healthz`: the process is up.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = r#"`{"status": "ok"}`"#, body = crate::openapi::StatusResponse))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers within two seconds; 503 otherwise.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = r#"`{"status": "ready"}`"#, body = crate::openapi::StatusResponse),
        crate::problem::doc::Errors<NotReady>
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    // The ping runs in a task of its own, which the timeout leaves to finish: a store call
    // dropped in flight must not happen (see `startup::log_request`).
    let store = state.store.clone();
    let ping = tokio::time::timeout(
        Duration::from_secs(2),
        actix_web::rt::spawn(async move { store.ping().await }),
    )
    .await;
    match ping {
        Ok(Ok(Ok(()))) => Ok(HttpResponse::Ok().json(json!({ "status": "ready" }))),
        Ok(Err(err)) => Err(Problem::internal(&err)),
        Ok(Ok(Err(err))) => {
            tracing::warn!(error = %crate::problem::error_chain(&err), "database not ready");
            Err(not_ready())
        }
        Err(_) => {
            tracing::warn!("database ping timed out");
            Err(not_ready())
        }
    }
}

fn not_ready() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "DATABASE_UNAVAILABLE",
        "Service unavailable",
        "The database is not reachable",
    )
}

/// The database does not answer.
#[derive(Debug)]
pub struct NotReady;

impl crate::problem::doc::Documented for NotReady {
    fn problems() -> Vec<Problem> {
        vec![not_ready()]
    }
}
