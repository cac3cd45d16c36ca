#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use futures_executor::block_on;

use super::*;
use crate::accounts::{AccountStatus, Credential};
use crate::ports::{
    MockAccountStatuses, MockAuditLog, MockClock, MockEventPublisher, MockPasswordHasher,
};

// One mock of the three store ports the account service takes (its `AccountStore` bound).
mockall::mock! {
    Accounts {}

    #[async_trait::async_trait]
    impl Credentials for Accounts {
        async fn create_account(
            &self,
            account: NewAccount,
            audit: AuditRecord,
        ) -> Result<User, StoreError>;
        async fn credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError>;
        async fn credentials_by_id(
            &self,
            user: UserId,
        ) -> Result<Option<(User, String)>, StoreError>;
        async fn set_password(
            &self,
            user: UserId,
            password_hash: String,
            keep: Option<SessionKey>,
            now: DateTime<Utc>,
            audit: AuditRecord,
        ) -> Result<(), StoreError>;
    }

    #[async_trait::async_trait]
    impl Sessions for Accounts {
        async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError>;
        async fn session(&self, id_hash: String) -> Result<Option<SessionRecord>, StoreError>;
        async fn touch_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError>;
        async fn revoke_session(
            &self,
            id_hash: String,
            now: DateTime<Utc>,
        ) -> Result<(), StoreError>;
        async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError>;
        async fn consume_refresh_token(
            &self,
            token_hash: String,
            now: DateTime<Utc>,
        ) -> Result<RefreshOutcome, StoreError>;
        async fn revoke_refresh_family(
            &self,
            token_hash: String,
            now: DateTime<Utc>,
        ) -> Result<bool, StoreError>;
    }

    #[async_trait::async_trait]
    impl Tickets for Accounts {
        async fn insert_ws_ticket(&self, ticket: TicketRecord) -> Result<(), StoreError>;
        async fn redeem_ws_ticket(
            &self,
            ticket_hash: String,
            now: DateTime<Utc>,
        ) -> Result<Option<TicketRecord>, StoreError>;
    }
}

const ALICE: UserId = UserId(7);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn alice(active: bool) -> User {
    User {
        id: ALICE,
        username: "alice".into(),
        email: "alice@example.com".into(),
        first_name: "Alice".into(),
        last_name: String::new(),
        role: Role::Student,
        is_active: active,
    }
}

/// The ports of one test: each starts with no expectation, so an unexpected call panics.
struct Ports {
    accounts: MockAccounts,
    audit: MockAuditLog,
    statuses: MockAccountStatuses,
    hasher: MockPasswordHasher,
    events: MockEventPublisher,
}

type Service = AccountService<
    MockAccounts,
    MockAuditLog,
    MockAccountStatuses,
    MockPasswordHasher,
    MockEventPublisher,
    MockClock,
>;

impl Ports {
    fn new() -> Self {
        Self {
            accounts: MockAccounts::new(),
            audit: MockAuditLog::new(),
            statuses: MockAccountStatuses::new(),
            hasher: MockPasswordHasher::new(),
            events: MockEventPublisher::new(),
        }
    }

    /// Alice's account as the status port reports it.
    fn status(mut self, active: bool, version: i64, role: Role) -> Self {
        self.statuses.expect_account_status().returning(move |id| {
            Ok((id == ALICE).then_some(AccountStatus {
                role,
                active,
                credential_version: version,
            }))
        });
        self
    }

    fn session(mut self, created: DateTime<Utc>, last_seen: DateTime<Utc>) -> Self {
        self.accounts.expect_session().returning(move |hash| {
            Ok((hash == "s1").then_some(SessionRecord {
                id_hash: hash.clone(),
                user_id: ALICE,
                created_at: created,
                last_seen_at: last_seen,
                revoked_at: None,
            }))
        });
        self
    }

    fn service(self) -> Service {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        AccountService::new(
            self.accounts,
            self.audit,
            self.statuses,
            self.hasher,
            self.events,
            clock,
            CredentialPolicy::default(),
        )
    }
}

fn token(version: i64) -> Credential {
    Credential::AccessToken {
        user_id: ALICE,
        version,
    }
}

fn session_key() -> Credential {
    Credential::Session(SessionKey("s1".into()))
}

#[test]
fn an_access_token_of_a_deactivated_account_is_refused() {
    let svc = Ports::new().status(false, 3, Role::Student).service();
    let result = block_on(svc.authenticate(token(3)));
    assert!(
        matches!(result, Err(AuthError::AccountInactive)),
        "{result:?}"
    );
}

#[test]
fn a_signed_token_naming_no_user_is_unauthenticated_not_a_fault() {
    let svc = Ports::new().status(true, 0, Role::Student).service();
    let result = block_on(svc.authenticate(Credential::AccessToken {
        user_id: UserId(999),
        version: 0,
    }));
    assert!(
        matches!(result, Err(AuthError::Unauthenticated)),
        "{result:?}"
    );
}

#[test]
fn a_token_issued_before_credentials_were_revoked_is_refused_even_after_reactivation() {
    // Deactivation raised the version from 3 to 4; the account was active again afterwards.
    let svc = Ports::new().status(true, 4, Role::Student).service();
    let result = block_on(svc.authenticate(token(3)));
    assert!(
        matches!(result, Err(AuthError::Unauthenticated)),
        "{result:?}"
    );
    assert_eq!(block_on(svc.authenticate(token(4))).unwrap().user_id, ALICE);
}

#[test]
fn the_role_is_the_accounts_role_now_not_the_one_the_token_was_issued_with() {
    // A token issued while Alice was an admin; she has since been made a student.
    let svc = Ports::new().status(true, 0, Role::Student).service();
    let principal = block_on(svc.authenticate(token(0))).unwrap();
    assert_eq!(principal.role, Role::Student);
    assert_eq!(principal.session, None);
}

#[test]
fn a_session_idle_too_long_expires_and_is_revoked() {
    let mut ports = Ports::new()
        .status(true, 0, Role::Student)
        .session(now() - TimeDelta::hours(1), now() - TimeDelta::minutes(31));
    ports
        .accounts
        .expect_revoke_session()
        .withf(|hash, at| hash == "s1" && *at == now())
        .times(1)
        .returning(|_, _| Ok(()));
    let result = block_on(ports.service().authenticate(session_key()));
    assert!(
        matches!(result, Err(AuthError::SessionExpired)),
        "{result:?}"
    );
}

#[test]
fn a_busy_session_still_ends_at_its_absolute_lifetime() {
    let mut ports = Ports::new()
        .status(true, 0, Role::Student)
        .session(now() - TimeDelta::hours(12), now() - TimeDelta::seconds(5));
    ports
        .accounts
        .expect_revoke_session()
        .times(1)
        .returning(|_, _| Ok(()));
    let result = block_on(ports.service().authenticate(session_key()));
    assert!(
        matches!(result, Err(AuthError::SessionExpired)),
        "{result:?}"
    );
}

#[test]
fn a_live_session_names_itself_and_its_end_and_is_touched_at_most_once_a_minute() {
    #[track_caller]
    fn check(idle_seconds: i64, touches: usize) {
        let created = now() - TimeDelta::hours(2);
        let mut ports = Ports::new()
            .status(true, 0, Role::Tutor)
            .session(created, now() - TimeDelta::seconds(idle_seconds));
        ports
            .accounts
            .expect_touch_session()
            .times(touches)
            .returning(|_, _| Ok(()));
        let principal = block_on(ports.service().authenticate(session_key())).unwrap();
        assert_eq!(principal.role, Role::Tutor);
        assert_eq!(principal.session, Some(SessionKey("s1".into())));
        assert_eq!(principal.valid_until, Some(created + TimeDelta::hours(12)));
    }
    check(10, 0);
    check(61, 1);
}

#[test]
fn a_session_of_a_deactivated_account_is_refused() {
    let svc = Ports::new()
        .status(false, 1, Role::Student)
        .session(now() - TimeDelta::minutes(5), now() - TimeDelta::minutes(1))
        .service();
    let result = block_on(svc.authenticate(session_key()));
    assert!(
        matches!(result, Err(AuthError::AccountInactive)),
        "{result:?}"
    );
}

#[test]
fn a_revoked_or_unknown_session_is_unauthenticated() {
    let mut ports = Ports::new().status(true, 0, Role::Student);
    ports.accounts.expect_session().returning(|hash| {
        Ok((hash == "s1").then(|| SessionRecord {
            id_hash: hash,
            user_id: ALICE,
            created_at: now(),
            last_seen_at: now(),
            revoked_at: Some(now()),
        }))
    });
    let svc = ports.service();
    for key in ["s1", "s2"] {
        let result = block_on(svc.authenticate(Credential::Session(SessionKey(key.into()))));
        assert!(
            matches!(result, Err(AuthError::Unauthenticated)),
            "{key}: {result:?}"
        );
    }
}

fn ticket(session: Option<&str>, version: i64) -> TicketRecord {
    TicketRecord {
        ticket_hash: "t1".into(),
        user_id: ALICE,
        credential_version: version,
        session: session.map(|s| SessionKey(s.into())),
        expires_at: now() + TimeDelta::seconds(30),
    }
}

#[test]
fn a_ticket_minted_through_a_session_dies_with_that_session() {
    let mut ports = Ports::new().status(true, 0, Role::Student);
    ports
        .accounts
        .expect_redeem_ws_ticket()
        .returning(|_, _| Ok(Some(ticket(Some("s1"), 0))));
    ports.accounts.expect_session().returning(|hash| {
        Ok(Some(SessionRecord {
            id_hash: hash,
            user_id: ALICE,
            created_at: now(),
            last_seen_at: now(),
            revoked_at: Some(now()),
        }))
    });
    let result = block_on(
        ports
            .service()
            .authenticate(Credential::Ticket("t1".into())),
    );
    assert!(
        matches!(result, Err(AuthError::Unauthenticated)),
        "{result:?}"
    );
}

#[test]
fn a_ticket_minted_before_a_revocation_is_refused() {
    let mut ports = Ports::new().status(true, 5, Role::Student);
    ports
        .accounts
        .expect_redeem_ws_ticket()
        .returning(|_, _| Ok(Some(ticket(None, 4))));
    let result = block_on(
        ports
            .service()
            .authenticate(Credential::Ticket("t1".into())),
    );
    assert!(
        matches!(result, Err(AuthError::Unauthenticated)),
        "{result:?}"
    );
}

#[test]
fn a_ticket_through_a_live_session_opens_a_socket_tied_to_it() {
    let mut ports = Ports::new()
        .status(true, 0, Role::Student)
        .session(now() - TimeDelta::minutes(5), now() - TimeDelta::minutes(1));
    ports
        .accounts
        .expect_redeem_ws_ticket()
        .returning(|_, _| Ok(Some(ticket(Some("s1"), 0))));
    // Redeeming a ticket is not a use of the session: no touch expected.
    let principal = block_on(
        ports
            .service()
            .authenticate(Credential::Ticket("t1".into())),
    )
    .unwrap();
    assert_eq!(principal.session, Some(SessionKey("s1".into())));
}

#[test]
fn a_login_to_a_deactivated_account_fails_like_a_wrong_password_and_is_audited() {
    let mut ports = Ports::new().status(false, 0, Role::Student);
    ports
        .accounts
        .expect_credentials()
        .returning(|_| Ok(Some((alice(false), "$hash".into()))));
    ports
        .hasher
        .expect_verify()
        .withf(|_, hash| hash.as_deref() == Some("$hash"))
        .returning(|_, _| Ok(true));
    ports
        .audit
        .expect_record()
        .withf(|r| r.action == AuditAction::LoginFailed && r.actor.is_none())
        .times(1)
        .returning(|_| Ok(()));
    // No session and no token may be opened: no expectation on insert_*.
    let result = block_on(ports.service().login(
        "alice",
        "correct horse".into(),
        Grant::Session(SessionKey("s9".into())),
        None,
    ));
    assert!(
        matches!(result, Err(LoginError::InvalidCredentials)),
        "{result:?}"
    );
}

#[test]
fn an_unknown_name_is_checked_against_the_dummy_hash() {
    let mut ports = Ports::new();
    ports.accounts.expect_credentials().returning(|_| Ok(None));
    ports
        .hasher
        .expect_verify()
        .withf(|_, hash| hash.is_none())
        .times(1)
        .returning(|_, _| Ok(false));
    ports.audit.expect_record().returning(|_| Ok(()));
    let result = block_on(ports.service().login(
        "nobody",
        "whatever1".into(),
        Grant::Session(SessionKey("s9".into())),
        None,
    ));
    assert!(
        matches!(result, Err(LoginError::InvalidCredentials)),
        "{result:?}"
    );
}

#[test]
fn a_login_opens_the_grant_and_returns_the_credential_version() {
    let mut ports = Ports::new().status(true, 6, Role::Student);
    ports
        .accounts
        .expect_credentials()
        .returning(|_| Ok(Some((alice(true), "$hash".into()))));
    ports.hasher.expect_verify().returning(|_, _| Ok(true));
    ports
        .audit
        .expect_record()
        .withf(|r| r.action == AuditAction::LoginSucceeded && r.actor == Some(ALICE))
        .times(1)
        .returning(|_| Ok(()));
    ports
        .accounts
        .expect_insert_refresh_token()
        .withf(|t| {
            t.user_id == ALICE && t.family == "f1" && t.expires_at == now() + TimeDelta::days(14)
        })
        .times(1)
        .returning(|_| Ok(()));
    let done = block_on(ports.service().login(
        "alice",
        "correct horse".into(),
        Grant::Tokens {
            refresh_hash: "r1".into(),
            family: "f1".into(),
        },
        None,
    ))
    .unwrap();
    assert_eq!(done.credential_version, 6);
}

#[test]
fn a_refresh_token_of_a_deactivated_account_is_invalid() {
    let mut ports = Ports::new().status(false, 0, Role::Student);
    ports
        .accounts
        .expect_consume_refresh_token()
        .returning(|_, _| {
            Ok(RefreshOutcome::Valid {
                user_id: ALICE,
                family: "f1".into(),
            })
        });
    ports
        .accounts
        .expect_credentials_by_id()
        .returning(|_| Ok(Some((alice(false), "$hash".into()))));
    let result = block_on(ports.service().refresh("r1".into(), "r2".into(), None));
    assert!(matches!(result, Err(RefreshError::Invalid)), "{result:?}");
}

#[test]
fn a_reused_refresh_token_is_audited_and_refused() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_consume_refresh_token()
        .returning(|_, _| Ok(RefreshOutcome::Reused { user_id: ALICE }));
    ports
        .audit
        .expect_record()
        .withf(|r| r.action == AuditAction::RefreshTokenReused)
        .times(1)
        .returning(|_| Ok(()));
    let result = block_on(ports.service().refresh("r1".into(), "r2".into(), None));
    assert!(matches!(result, Err(RefreshError::Reused)), "{result:?}");
}

#[test]
fn logging_out_of_a_session_closes_the_sockets_opened_through_it() {
    let mut ports = Ports::new();
    ports.audit.expect_record().returning(|_| Ok(()));
    ports
        .accounts
        .expect_revoke_session()
        .withf(|hash, _| hash == "s1")
        .times(1)
        .returning(|_, _| Ok(()));
    ports
        .events
        .expect_disconnect()
        .withf(|user, session| *user == ALICE && *session == Some(SessionKey("s1".into())))
        .times(1)
        .return_const(());
    let principal = Principal {
        user_id: ALICE,
        role: Role::Student,
        credential_version: 0,
        session: Some(SessionKey("s1".into())),
        valid_until: None,
    };
    block_on(ports.service().logout(&principal, None, None)).unwrap();
}

#[test]
fn a_wrong_current_password_changes_nothing() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_credentials_by_id()
        .returning(|_| Ok(Some((alice(true), "$hash".into()))));
    ports.hasher.expect_verify().returning(|_, _| Ok(false));
    // No expectation on set_password, hash or disconnect: any call would panic.
    let principal = Principal {
        user_id: ALICE,
        role: Role::Student,
        credential_version: 0,
        session: None,
        valid_until: None,
    };
    let new = Password::parse_new("a new password".into(), "new_password").unwrap();
    let result = block_on(ports.service().change_password(
        &principal,
        "wrong one".into(),
        new,
        None,
    ));
    assert!(
        matches!(result, Err(PasswordChangeError::WrongPassword)),
        "{result:?}"
    );
}

#[test]
fn a_password_change_keeps_the_current_session_and_ends_every_other_credential() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_credentials_by_id()
        .returning(|_| Ok(Some((alice(true), "$hash".into()))));
    ports.hasher.expect_verify().returning(|_, _| Ok(true));
    ports.hasher.expect_hash().returning(|_| Ok("$new".into()));
    ports
        .accounts
        .expect_set_password()
        .withf(|user, hash, keep, _, audit| {
            *user == ALICE
                && hash == "$new"
                && *keep == Some(SessionKey("s1".into()))
                && audit.action == AuditAction::PasswordChanged
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    ports
        .events
        .expect_disconnect()
        .withf(|user, session| *user == ALICE && session.is_none())
        .times(1)
        .return_const(());
    let principal = Principal {
        user_id: ALICE,
        role: Role::Student,
        credential_version: 0,
        session: Some(SessionKey("s1".into())),
        valid_until: None,
    };
    let new = Password::parse_new("a new password".into(), "new_password").unwrap();
    block_on(
        ports
            .service()
            .change_password(&principal, "old password".into(), new, None),
    )
    .unwrap();
}

#[test]
fn the_password_policy_counts_characters() {
    #[track_caller]
    fn check(password: &str, ok: bool) {
        assert_eq!(
            Password::parse_new(password.into(), "password").is_ok(),
            ok,
            "{password:?}"
        );
    }
    check("1234567", false);
    check("12345678", true);
    check("ééééééé", false);
    check("éééééééé", true);
    check(&"x".repeat(128), true);
    check(&"x".repeat(129), false);
}
