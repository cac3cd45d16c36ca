//! Liveness and readiness.

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
        crate::problem::doc::Errors<crate::readiness::NotReady>
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    state.readiness.check().await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}
