//! The messaging service's HTTP server: settings, start-up, authentication, and one handler per
//! route. Business rules live in `messaging-domain`; SQL lives in `messaging-store`.

pub mod accounts;
pub mod admin_cli;
pub mod attachments;
pub mod auth;
pub mod clock;
pub mod dto;
pub mod forwarded;
pub mod idempotency;
pub mod json_object;
pub mod metrics;
pub mod multipart_limits;
pub mod openapi;
pub mod passwords;
pub mod problem;
pub mod rate_limit;
pub mod readiness;
pub mod realtime;
pub mod routes;
pub mod search_upkeep;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
