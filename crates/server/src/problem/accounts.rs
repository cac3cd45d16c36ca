//! The answers of the account use cases: authentication, login, registration, refresh and
//! password changes, and of password hashing.

use actix_web::http::StatusCode;
use messaging_domain::ports::HashError;
use messaging_domain::service::accounts::{
    AuthError, LoginError, PasswordChangeError, RefreshError, RegisterError,
};

use super::Problem;
use super::doc::Documented;

impl From<crate::passwords::HashingError> for Problem {
    fn from(err: crate::passwords::HashingError) -> Self {
        use crate::passwords::HashingError;
        match err {
            // The queue drains at tens of hashes a second per thread: a second is plenty.
            HashingError::Busy => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_BUSY",
                "Server busy",
                "Too many password checks are waiting; try again shortly.",
            )
            .with_retry_after(1),
            HashingError::Stopped | HashingError::Failed(_) => Problem::internal(&err),
        }
    }
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Unauthenticated => {
                Problem::unauthenticated("The credentials are not valid (any more)")
            }
            AuthError::AccountInactive => Problem::new(
                StatusCode::UNAUTHORIZED,
                "ACCOUNT_INACTIVE",
                "Account inactive",
                "This account is deactivated; its credentials no longer work",
            ),
            AuthError::SessionExpired => Problem::new(
                StatusCode::UNAUTHORIZED,
                "SESSION_EXPIRED",
                "Session expired",
                "The session expired; log in again",
            ),
            AuthError::Store(e) => e.into(),
        }
    }
}

impl From<HashError> for Problem {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_BUSY",
                "Server busy",
                "Too many password checks are waiting; try again shortly",
            )
            .with_retry_after(1),
            HashError::Failed(_) => Problem::internal(&err),
        }
    }
}

fn invalid_credentials() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
        "Invalid credentials",
        "Incorrect username or password",
    )
}

impl From<LoginError> for Problem {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::InvalidCredentials => invalid_credentials(),
            LoginError::Hashing(e) => e.into(),
            LoginError::Store(e) => e.into(),
        }
    }
}

impl From<RegisterError> for Problem {
    fn from(err: RegisterError) -> Self {
        match err {
            RegisterError::Exists => Problem::new(
                StatusCode::CONFLICT,
                "ACCOUNT_EXISTS",
                "Account exists",
                "An account with this username or email already exists",
            ),
            RegisterError::Hashing(e) => e.into(),
            RegisterError::Store(e) => e.into(),
        }
    }
}

impl From<RefreshError> for Problem {
    fn from(err: RefreshError) -> Self {
        match err {
            RefreshError::Invalid => Problem::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_REFRESH_TOKEN",
                "Invalid refresh token",
                "The refresh token is not valid",
            ),
            RefreshError::Reused => Problem::new(
                StatusCode::UNAUTHORIZED,
                "REFRESH_TOKEN_REUSED",
                "Refresh token reused",
                "This refresh token was already used; every session from that login is revoked",
            ),
            RefreshError::Store(e) => e.into(),
        }
    }
}

impl From<PasswordChangeError> for Problem {
    fn from(err: PasswordChangeError) -> Self {
        match err {
            PasswordChangeError::WrongPassword => Problem::new(
                StatusCode::FORBIDDEN,
                "WRONG_PASSWORD",
                "Wrong password",
                "The current password is not correct",
            ),
            PasswordChangeError::Auth(e) => e.into(),
            PasswordChangeError::Hashing(e) => e.into(),
            PasswordChangeError::Store(e) => e.into(),
        }
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
