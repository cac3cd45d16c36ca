//! The problems a route can answer, for the OpenAPI document, derived from the mapping in
//! `problem.rs` rather than copied into each annotation: every variant of a use case's error is
//! run through its `From` conversion, and the statuses and codes that come out are documented.
//! A handler names the errors it can return (`responses(..., Errors<SendError>)`); what its
//! extractors add (401, 403, 400/413/415 for a JSON body, 400 for a query, 404 for a path) is
//! added by `openapi::CommonProblems` from the operation's shape.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use actix_web::http::StatusCode;
use messaging_domain::AdminError;
use messaging_domain::DownloadError;
use messaging_domain::ValidationError;
use messaging_domain::attachment::{DownloadRefusal, FileRefusal};
use messaging_domain::contact::ContactRefusal;
use messaging_domain::message::EditRefusal;
use messaging_domain::ports::HashError;
use messaging_domain::service::accounts::{
    AuthError, LoginError, PasswordChangeError, RefreshError, RegisterError,
};
use messaging_domain::{DeleteError, EditError, LiveError, ReadError, SafetyError, SendError};
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

impl Documented for HashError {
    fn problems() -> Vec<Problem> {
        // `Failed` is a server fault, documented for every route.
        vec![HashError::Busy.into()]
    }
}

impl Documented for AuthError {
    fn problems() -> Vec<Problem> {
        [
            AuthError::Unauthenticated,
            AuthError::AccountInactive,
            AuthError::SessionExpired,
        ]
        .into_iter()
        .map(Problem::from)
        .collect()
    }
}

impl Documented for LoginError {
    fn problems() -> Vec<Problem> {
        let mut all = vec![LoginError::InvalidCredentials.into()];
        all.extend(HashError::problems());
        all
    }
}

impl Documented for RegisterError {
    fn problems() -> Vec<Problem> {
        let mut all = vec![RegisterError::Exists.into()];
        all.extend(HashError::problems());
        all
    }
}

impl Documented for RefreshError {
    fn problems() -> Vec<Problem> {
        vec![RefreshError::Invalid.into(), RefreshError::Reused.into()]
    }
}

impl Documented for PasswordChangeError {
    fn problems() -> Vec<Problem> {
        let mut all = vec![PasswordChangeError::WrongPassword.into()];
        all.extend(AuthError::problems());
        all.extend(HashError::problems());
        all
    }
}

impl Documented for ValidationError {
    fn problems() -> Vec<Problem> {
        vec![ValidationError::Empty { field: "field" }.into()]
    }
}

impl Documented for ContactRefusal {
    fn problems() -> Vec<Problem> {
        let all = [
            ContactRefusal::RecipientUnavailable,
            ContactRefusal::RecipientBlockedBySender,
            ContactRefusal::NotAssigned,
            ContactRefusal::PatientCannotInitiate,
        ];
        // A new variant must be listed above: this match stops compiling until it is handled.
        for refusal in &all {
            match refusal {
                ContactRefusal::RecipientUnavailable
                | ContactRefusal::RecipientBlockedBySender
                | ContactRefusal::NotAssigned
                | ContactRefusal::PatientCannotInitiate => {}
            }
        }
        all.into_iter().map(Problem::from).collect()
    }
}

impl Documented for SendError {
    fn problems() -> Vec<Problem> {
        let mut all: Vec<Problem> = [
            SendError::SenderInactive,
            SendError::BookingNotFound,
            SendError::ParentNotFound,
            SendError::ClientIdReused,
            SendError::NotClinician,
        ]
        .into_iter()
        .map(|e| match e {
            SendError::SenderInactive
            | SendError::BookingNotFound
            | SendError::ParentNotFound
            | SendError::ClientIdReused
            | SendError::NotClinician
            | SendError::Validation(_)
            | SendError::Contact(_)
            | SendError::Store(_) => Problem::from(e),
        })
        .collect();
        all.extend(ValidationError::problems());
        all.extend(ContactRefusal::problems());
        all
    }
}

impl Documented for EditError {
    fn problems() -> Vec<Problem> {
        let mut all: Vec<Problem> = [
            EditError::NotFound,
            EditError::Refused(EditRefusal::NotSender),
        ]
        .into_iter()
        .map(|e| match e {
            EditError::NotFound
            | EditError::Refused(_)
            | EditError::Validation(_)
            | EditError::Store(_) => Problem::from(e),
        })
        .collect();
        all.push(EditError::Refused(EditRefusal::WindowExpired { minutes: 15 }).into());
        all.extend(ValidationError::problems());
        all
    }
}

impl Documented for DeleteError {
    fn problems() -> Vec<Problem> {
        [DeleteError::NotFound, DeleteError::NotSender]
            .into_iter()
            .map(|e| match e {
                DeleteError::NotFound | DeleteError::NotSender | DeleteError::Store(_) => {
                    Problem::from(e)
                }
            })
            .collect()
    }
}

impl Documented for LiveError {
    fn problems() -> Vec<Problem> {
        [LiveError::NotFound]
            .into_iter()
            .map(|e| match e {
                LiveError::NotFound | LiveError::Store(_) => Problem::from(e),
            })
            .collect()
    }
}

impl Documented for ReadError {
    fn problems() -> Vec<Problem> {
        [ReadError::NotFound]
            .into_iter()
            .map(|e| match e {
                ReadError::NotFound | ReadError::Store(_) => Problem::from(e),
            })
            .collect()
    }
}

impl Documented for SafetyError {
    fn problems() -> Vec<Problem> {
        let mut all: Vec<Problem> = [
            SafetyError::NotFound,
            SafetyError::SelfBlock,
            SafetyError::NotAdmin,
        ]
        .into_iter()
        .map(|e| match e {
            SafetyError::NotFound
            | SafetyError::SelfBlock
            | SafetyError::NotAdmin
            | SafetyError::Validation(_)
            | SafetyError::Store(_) => Problem::from(e),
        })
        .collect();
        all.extend(ValidationError::problems());
        all
    }
}

impl Documented for AdminError {
    fn problems() -> Vec<Problem> {
        [
            AdminError::NotAdmin,
            AdminError::NotFound,
            AdminError::WrongRoles("wrong roles"),
            AdminError::SelfChange,
        ]
        .into_iter()
        .map(|e| match e {
            AdminError::NotAdmin
            | AdminError::NotFound
            | AdminError::WrongRoles(_)
            | AdminError::SelfChange
            | AdminError::Store(_) => Problem::from(e),
        })
        .collect()
    }
}

impl Documented for messaging_domain::AuditReadError {
    fn problems() -> Vec<Problem> {
        use messaging_domain::AuditReadError;
        let mut all: Vec<Problem> = [AuditReadError::NotAdmin]
            .into_iter()
            .map(|e| match e {
                AuditReadError::NotAdmin
                | AuditReadError::Validation(_)
                | AuditReadError::Store(_) => Problem::from(e),
            })
            .collect();
        all.extend(ValidationError::problems());
        all
    }
}

impl Documented for FileRefusal {
    fn problems() -> Vec<Problem> {
        [
            FileRefusal::Empty,
            FileRefusal::TooLarge { max_bytes: 1 },
            FileRefusal::UnsupportedType,
            FileRefusal::TooManyPixels { max_pixels: 1 },
            FileRefusal::UnreadableImage,
        ]
        .into_iter()
        .map(|e| match e {
            FileRefusal::Empty
            | FileRefusal::TooLarge { .. }
            | FileRefusal::UnsupportedType
            | FileRefusal::TooManyPixels { .. }
            | FileRefusal::UnreadableImage => Problem::from(e),
        })
        .collect()
    }
}

impl Documented for DownloadError {
    fn problems() -> Vec<Problem> {
        [
            DownloadRefusal::NotFound,
            DownloadRefusal::Infected,
            DownloadRefusal::ScanPending,
        ]
        .into_iter()
        .map(|refusal| match refusal {
            DownloadRefusal::NotFound
            | DownloadRefusal::Infected
            | DownloadRefusal::ScanPending => Problem::from(DownloadError::Refused(refusal)),
        })
        .collect()
    }
}

impl Documented for messaging_files::LinkError {
    fn problems() -> Vec<Problem> {
        use messaging_files::LinkError;
        [LinkError::Invalid, LinkError::Expired]
            .into_iter()
            .map(|e| match e {
                LinkError::Invalid | LinkError::Expired => Problem::from(e),
            })
            .collect()
    }
}

/// A problem named by status and code alone, for answers a handler builds itself.
#[must_use]
pub fn named(status: StatusCode, code: &'static str) -> Problem {
    Problem::new(status, code, "", "")
}
