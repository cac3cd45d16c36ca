//! Prometheus metrics, served at `GET /metrics` in the OpenMetrics text format.
//!
//! Requests are labelled by method, route *pattern* (`/api/messages/{id}`, or `<unmatched>`) and
//! status, never by the raw path or query string: ids and search terms would make the number of
//! series grow without bound and could leak what users look for. The endpoint needs no
//! authentication, so it must not be reachable from the public internet.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::{HttpResponse, Resource, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::problem::Problem;
use crate::state::AppState;

/// The `route` label of a request that matched no route.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

/// The content type of the exposition (Prometheus negotiates OpenMetrics).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus' default buckets, in seconds: from a cached lookup to a slow search.
const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// The request metrics, shared by every worker (one registry, so a scrape sees all of them).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers `http_requests_total` and `http_request_duration_seconds`.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS));
        // The client adds the `_total` suffix to counters and the unit suffix to the histogram.
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to produce the response head, by method and route pattern",
            Unit::Seconds,
            durations.clone(),
        );
        Self {
            registry,
            requests,
            durations,
        }
    }

    /// Records one answered request. `route` must be a route pattern or [`UNMATCHED_ROUTE`].
    pub fn observe(&self, method: &Method, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_owned(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                method,
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The whole exposition, with `messaging_db_queries_total` set to `db_queries` (read by the
    /// caller at scrape time, since the store keeps that count itself).
    ///
    /// # Errors
    /// Only if formatting into a `String` fails, which it does not in practice.
    pub fn encode(&self, db_queries: u64) -> Result<String, std::fmt::Error> {
        let mut scrape = Registry::default();
        scrape.register(
            "messaging_db_queries",
            "SQL statements started since the store was opened",
            ConstCounter::new(db_queries),
        );
        let mut text = String::new();
        encode_registry(&mut text, &self.registry)?;
        encode_registry(&mut text, &scrape)?;
        encode_eof(&mut text)?;
        Ok(text)
    }
}

/// The `GET /metrics` resource, serving `metrics`.
pub fn resource(metrics: Arc<Metrics>) -> Resource {
    web::resource("/metrics")
        .app_data(web::Data::from(metrics))
        .route(web::get().to(scrape))
}

async fn scrape(
    metrics: web::Data<Metrics>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    match metrics.encode(state.store.queries_executed()) {
        Ok(text) => Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text)),
        Err(err) => Err(Problem::internal(&err)),
    }
}

/// The standard methods by name and every other one as `OTHER`, since a client may send any token
/// as a method and each would otherwise become a new series.
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "OTHER",
    }
}
