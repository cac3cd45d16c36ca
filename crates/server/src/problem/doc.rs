//! The problems a route can answer, for the OpenAPI document, derived from the mapping in
//! `problem/` rather than copied into each annotation: every variant of a use case's error is
//! run through its `From` conversion (each area's file lists them next to that conversion), and
//! the statuses and codes that come out are documented.
//! A handler names the errors it can return (`responses(..., Errors<SendError>)`); what its
//! extractors add (401, 403, 400/413/415 for a JSON body, 400 for a query, 404 for a path) is
//! added by `openapi::document` from the operation's shape.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use actix_web::http::StatusCode;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

use super::Problem;

/// An error type whose answers are documented: `problems` gives one problem per distinct answer.
/// `StoreError` variants are left out: a server fault is documented for every route (500).
pub trait Documented {
    /// Every problem this error can become.
    fn problems() -> Vec<Problem>;
}

/// The documented error responses of `T` (use as `responses(..., Errors<T>)`); tuples of up to
/// four error types combine.
#[derive(Debug)]
pub struct Errors<T>(PhantomData<T>);

impl<T: Documented> utoipa::IntoResponses for Errors<T> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses_for(T::problems())
    }
}

/// The responses documenting `problems`: one per status, naming its codes.
#[must_use]
pub fn responses_for(problems: Vec<Problem>) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
    for problem in &problems {
        let codes = by_status.entry(problem.status.as_u16()).or_default();
        if !codes.contains(&problem.code) {
            codes.push(problem.code);
        }
    }
    by_status
        .into_iter()
        .map(|(status, codes)| (status.to_string(), RefOr::T(problem_response(&codes))))
        .collect()
}

/// A response whose body is a problem with one of `codes`.
#[must_use]
pub fn problem_response(codes: &[&str]) -> Response {
    ResponseBuilder::new()
        .description(describe(codes))
        .content(
            PROBLEM_CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ProblemDetails")))
                .build(),
        )
        .build()
}

/// The content type of every problem.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// "`A`, `B`": the codes a response description names.
#[must_use]
pub fn describe(codes: &[&str]) -> String {
    codes
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The codes a description written by [`describe`] names.
#[must_use]
pub fn described_codes(description: &str) -> Vec<String> {
    description
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

macro_rules! tuple_documented {
    ($($t:ident),+) => {
        impl<$($t: Documented),+> Documented for ($($t,)+) {
            fn problems() -> Vec<Problem> {
                let mut all = Vec::new();
                $(all.extend($t::problems());)+
                all
            }
        }
    };
}
tuple_documented!(A, B);
tuple_documented!(A, B, C);
tuple_documented!(A, B, C, D);

/// What System B's routes answer: validation failures are 400, as System B's clients expect.
#[derive(Debug)]
pub struct SystemB<T>(PhantomData<T>);

impl<T: Documented> Documented for SystemB<T> {
    fn problems() -> Vec<Problem> {
        T::problems()
            .into_iter()
            .map(Problem::for_system_b)
            .collect()
    }
}

/// A rate-limited action (429 with `Retry-After`).
#[derive(Debug)]
pub struct RateLimited;

impl Documented for RateLimited {
    fn problems() -> Vec<Problem> {
        vec![crate::rate_limit::rate_limited(1)]
    }
}

/// A problem named by status and code alone, for answers a handler builds itself.
#[must_use]
pub fn named(status: StatusCode, code: &'static str) -> Problem {
    Problem::new(status, code, "", "")
}
