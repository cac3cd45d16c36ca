//! Credentials end when they should, everywhere at once: a deactivated account is refused on every
//! route and socket, nothing issued before a deactivation works again, a token for a user that
//! does not exist is 401, logging out closes the sockets opened through that session, sessions
//! have an absolute lifetime, and a refresh token used twice at once is a reuse.

use std::time::Duration;

use chrono::Utc;
use messaging_domain::user::{Role, UserId};
use serde_json::{Value, json};

use crate::support::{Backend, PASSWORD, TestApp, TestUser};

/// Every authenticated thing a user can do, as (method, path, body).
fn every_route(
    me: &TestUser,
    partner: &TestUser,
    message_id: i64,
) -> Vec<(&'static str, String, Option<Value>)> {
    let p = partner.id;
    vec![
        ("GET", "/api/messages/threads".into(), None),
        ("GET", format!("/api/messages/threads/{p}"), None),
        ("GET", "/api/messages/search?q=hello".into(), None),
        ("GET", "/api/messages/inbox".into(), None),
        ("GET", "/api/messages/sent".into(), None),
        ("GET", "/api/messages/unread-count".into(), None),
        ("GET", format!("/api/users/{p}/presence"), None),
        (
            "PUT",
            "/api/me/presence".into(),
            Some(json!({"visible": false})),
        ),
        ("POST", "/api/ws-ticket".into(), None),
        ("PATCH", format!("/api/messages/{message_id}/read"), None),
        ("PATCH", format!("/api/messages/threads/{p}/read-all"), None),
        (
            "PATCH",
            format!("/api/messages/{message_id}"),
            Some(json!({"message": "changed"})),
        ),
        (
            "DELETE",
            format!("/api/messages/{message_id}?scope=everyone"),
            None,
        ),
        ("DELETE", format!("/api/messages/{message_id}"), None),
        (
            "POST",
            format!("/api/messages/{message_id}/report"),
            Some(json!({"reason": "spam"})),
        ),
        ("POST", format!("/api/users/{p}/block"), None),
        ("DELETE", format!("/api/users/{p}/block"), None),
        (
            "POST",
            "/api/messages".into(),
            Some(json!({"recipient_id": p, "message": "hi"})),
        ),
        ("GET", "/api/admin/audit".into(), None),
        ("GET", "/api/admin/reports".into(), None),
        (
            "PATCH",
            format!("/api/admin/users/{}", me.id),
            Some(json!({"role": "admin"})),
        ),
        ("POST", "/api/auth/logout".into(), None),
    ]
}

async fn deactivate(app: &TestApp, admin: &TestUser, user: &TestUser, active: bool) {
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", user.id),
            &admin.token,
            Some(json!({"is_active": active})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn audit_entries_by(app: &TestApp, admin: &TestUser, actor: i64) -> usize {
    let (status, body) = app
        .get(
            &format!("/api/admin/audit?actor_id={actor}&limit=100"),
            Some(&admin.token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["entries"].as_array().map_or(0, Vec::len)
}

pub async fn a_deactivated_account_is_refused_on_every_route_at_once(app: &TestApp) {
    let amy = app.user_with_role("amy_l", Role::Admin).await;
    let boss = app.user_with_role("boss_l", Role::Admin).await;
    let bea = app.user_with_role("bea_l", Role::Admin).await;
    let sent = app.send(&amy, &bea, "hello bea").await;
    let received = app.send(&bea, &amy, "hello amy").await;
    // Before: every route works for amy (a sample, to show the token was good).
    let (status, _) = app.get("/api/messages/threads", Some(&amy.token)).await;
    assert_eq!(status, 200);
    let (status, _) = app.get("/api/admin/audit", Some(&amy.token)).await;
    assert_eq!(status, 200);
    let mut socket = app.ws_for(&amy, "").await;

    deactivate(app, &boss, &amy, false).await;
    let before = audit_entries_by(app, &boss, amy.id).await;
    for message in [&sent, &received] {
        let id = message["id"].as_i64().unwrap();
        for (method, path, body) in every_route(&amy, &bea, id) {
            let (status, answer) = app.request(method, &path, Some(&amy.token), body).await;
            assert_eq!(
                (status, answer["code"].as_str()),
                (401, Some("ACCOUNT_INACTIVE")),
                "{method} {path}: {answer}"
            );
        }
    }
    assert_eq!(socket.close_code().await, 1008, "the open socket is closed");
    let mut refused = app.ws(&format!("/ws?token={}", amy.token), &[]).await;
    assert_eq!(refused.close_code().await, 1008, "no new socket opens");
    // Nothing was done, so nothing was audited under her name; her messages are untouched.
    assert_eq!(audit_entries_by(app, &boss, amy.id).await, before);
    let (_, history) = app
        .get(
            &format!("/api/messages/threads/{}", amy.id),
            Some(&bea.token),
        )
        .await;
    let text = history.to_string();
    assert!(
        text.contains("hello bea") && text.contains("hello amy"),
        "{text}"
    );

    // Reactivated, the account works again, but nothing issued before the deactivation does.
    deactivate(app, &boss, &amy, true).await;
    let (status, answer) = app.get("/api/messages/threads", Some(&amy.token)).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("UNAUTHENTICATED")),
        "{answer}"
    );
    let fresh = app.login("amy_l").await;
    let (status, _) = app
        .get("/api/messages/threads", fresh["access_token"].as_str())
        .await;
    assert_eq!(status, 200);
}

pub async fn a_deactivated_admin_loses_admin_reads_and_writes(app: &TestApp) {
    let ann = app.user_with_role("ann_l", Role::Admin).await;
    let ben = app.user_with_role("ben_l", Role::Admin).await;
    deactivate(app, &ben, &ann, false).await;
    for path in ["/api/admin/audit", "/api/admin/reports"] {
        let (status, body) = app.get(path, Some(&ann.token)).await;
        assert_eq!(status, 401, "{path}: {body}");
    }
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", ben.id),
            &ann.token,
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(status, 401, "{body}");
}

pub async fn a_role_change_takes_effect_without_a_new_token(app: &TestApp) {
    let ada = app.user_with_role("ada_l", Role::Admin).await;
    let bob = app.user_with_role("bob_l", Role::Admin).await;
    let (status, _) = app.get("/api/admin/audit", Some(&ada.token)).await;
    assert_eq!(status, 200);
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", ada.id),
            &bob.token,
            Some(json!({"role": "tutor"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The token still says "admin"; the account no longer is.
    let (status, body) = app.get("/api/admin/audit", Some(&ada.token)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("ADMIN_ONLY")),
        "{body}"
    );
}

pub async fn a_signed_token_naming_no_user_is_401_not_500(app: &TestApp) {
    let keys = server::auth::TokenKeys::load(
        app.settings.jwt_secret.as_deref(),
        &app.settings.data_dir,
        3600,
        3600,
        1800,
    )
    .unwrap();
    let ghost = keys
        .issue_access(UserId(987_654), Role::Student, 0, Utc::now().timestamp())
        .unwrap();
    for (method, path, body) in [
        ("PUT", "/api/me/presence", Some(json!({"visible": false}))),
        ("POST", "/api/ws-ticket", None),
        ("GET", "/api/messages/threads", None),
        (
            "POST",
            "/api/messages",
            Some(json!({"recipient_id": 1, "message": "hi"})),
        ),
    ] {
        let (status, answer) = app.request(method, path, Some(&ghost), body).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (401, Some("UNAUTHENTICATED")),
            "{method} {path}: {answer}"
        );
    }
    let mut socket = app.ws(&format!("/ws?token={ghost}"), &[]).await;
    assert_eq!(socket.close_code().await, 1008);
}

pub async fn two_concurrent_refreshes_of_one_token_are_a_reuse(app: &TestApp) {
    app.register("rita_l").await;
    let tokens = app.login("rita_l").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let body = json!({"refresh_token": refresh});
    let (first, second) = tokio::join!(
        app.post("/api/auth/refresh", None, body.clone()),
        app.post("/api/auth/refresh", None, body.clone()),
    );
    let mut answers = [first, second];
    answers.sort_by_key(|(status, _)| *status);
    let [(ok, winner), (refused, loser)] = answers;
    assert_eq!(ok, 200, "{winner}");
    assert_eq!(
        (refused, loser["code"].as_str()),
        (401, Some("REFRESH_TOKEN_REUSED")),
        "{loser}"
    );
    // The family is revoked: the winner's new refresh token does not work either.
    let (status, answer) = app
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": winner["refresh_token"]}),
        )
        .await;
    assert_eq!(status, 401, "{answer}");
}

/// A browser's session: its cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn cookie_login(app: &TestApp, username: &str) -> Session {
    let client = awc::Client::default();
    let mut resp = client
        .post(format!("{}/api/auth/login", app.base))
        .send_json(&json!({"username": username, "password": PASSWORD, "cookie": true}))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: Value = resp.json().await.unwrap();
    Session {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

async fn with_cookie(app: &TestApp, session: &Session, method: &str, path: &str) -> (u16, Value) {
    let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut resp = awc::Client::default()
        .request(method, format!("{}{}", app.base, path))
        .insert_header(("Cookie", session.cookie.clone()))
        .insert_header(("Origin", app.base.clone()))
        .insert_header(("X-CSRF-Token", session.csrf.clone()))
        .send()
        .await
        .unwrap();
    let bytes = resp.body().await.unwrap();
    (
        resp.status().as_u16(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub async fn logging_out_closes_the_sockets_opened_through_that_session_only(app: &TestApp) {
    app.register("liz_l").await;
    let leaving = cookie_login(app, "liz_l").await;
    let staying = cookie_login(app, "liz_l").await;
    let origin = app.base.clone();
    let mut by_cookie = app
        .ws("/ws", &[("Cookie", &leaving.cookie), ("Origin", &origin)])
        .await;
    by_cookie.next_of("connected", &[]).await;
    let (status, ticket) = with_cookie(app, &leaving, "POST", "/api/ws-ticket").await;
    assert_eq!(status, 201, "{ticket}");
    let mut by_ticket = app
        .ws(
            &format!("/ws?ticket={}", ticket["ticket"].as_str().unwrap()),
            &[("Origin", &origin)],
        )
        .await;
    by_ticket.next_of("connected", &[]).await;
    let mut other = app
        .ws("/ws", &[("Cookie", &staying.cookie), ("Origin", &origin)])
        .await;
    other.next_of("connected", &[]).await;
    // A ticket minted through the session but not yet redeemed.
    let (_, unused) = with_cookie(app, &leaving, "POST", "/api/ws-ticket").await;

    let (status, body) = with_cookie(app, &leaving, "POST", "/api/auth/logout").await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(by_cookie.close_code().await, 1008);
    assert_eq!(by_ticket.close_code().await, 1008);
    other.expect_silence(300).await;
    let (status, _) = with_cookie(app, &staying, "GET", "/api/messages/threads").await;
    assert_eq!(status, 200, "the other session stays open");
    let mut late = app
        .ws(
            &format!("/ws?ticket={}", unused["ticket"].as_str().unwrap()),
            &[("Origin", &origin)],
        )
        .await;
    assert_eq!(
        late.close_code().await,
        1008,
        "a ticket of the closed session opens nothing"
    );
}

/// Sessions end at their absolute lifetime however busy they are.
#[actix_web::test]
async fn a_busy_session_still_ends_at_its_absolute_lifetime() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.session_max_secs = 2)
        .await
        .unwrap();
    app.register("max_l").await;
    let session = cookie_login(&app, "max_l").await;
    let (status, _) = with_cookie(&app, &session, "GET", "/api/messages/threads").await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = with_cookie(&app, &session, "GET", "/api/messages/threads").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("SESSION_EXPIRED")),
        "{body}"
    );
}

/// With two instances on one database, a deactivation made through one is refused by the other
/// within a second, and the sockets open there close.
#[actix_web::test]
async fn a_deactivation_holds_on_every_instance_within_a_second() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let other = app.another_instance().await;
    let admin = app.user_with_role("root_l", Role::Admin).await;
    let vic = app.user_with_role("vic_l", Role::Student).await;
    let (status, _) = other.get("/api/messages/threads", Some(&vic.token)).await;
    assert_eq!(
        status, 200,
        "the other instance has read (and cached) vic's status"
    );
    let mut socket = other.ws_for(&vic, "").await;
    deactivate(&app, &admin, &vic, false).await;
    assert_eq!(
        socket.close_code_within(Duration::from_secs(10)).await,
        1008
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, body) = other.get("/api/messages/threads", Some(&vic.token)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("ACCOUNT_INACTIVE")),
        "{body}"
    );
}

pub async fn a_password_change_keeps_this_session_and_ends_every_other_credential(app: &TestApp) {
    let pia = app.register("pia_l").await;
    let here = cookie_login(app, "pia_l").await;
    let elsewhere = cookie_login(app, "pia_l").await;
    let tokens = app.login("pia_l").await;
    let mut phone = app.ws_for(&pia, "").await;
    let change = |current: &str, new: &str| {
        let (cookie, csrf) = (here.cookie.clone(), here.csrf.clone());
        let body = json!({"current_password": current, "new_password": new});
        let url = format!("{}/api/me/password", app.base);
        let origin = app.base.clone();
        async move {
            let mut resp = awc::Client::default()
                .put(url)
                .insert_header(("Cookie", cookie))
                .insert_header(("Origin", origin))
                .insert_header(("X-CSRF-Token", csrf))
                .send_json(&body)
                .await
                .unwrap();
            let bytes = resp.body().await.unwrap();
            (
                resp.status().as_u16(),
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = change("not my password", "a brand new password").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("WRONG_PASSWORD")),
        "{body}"
    );
    let (status, body) = change(PASSWORD, "short").await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app.get("/api/messages/threads", Some(&pia.token)).await;
    assert_eq!(status, 200, "a refused change revokes nothing");

    let (status, body) = change(PASSWORD, "a brand new password").await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(phone.close_code().await, 1008, "the token's socket closes");
    let (status, _) = app.get("/api/messages/threads", Some(&pia.token)).await;
    assert_eq!(status, 401, "tokens issued before the change are dead");
    let (status, _) = app
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(status, 401, "so are refresh tokens");
    let (status, _) = with_cookie(app, &elsewhere, "GET", "/api/messages/threads").await;
    assert_eq!(status, 401, "and every other session");
    let (status, _) = with_cookie(app, &here, "GET", "/api/messages/threads").await;
    assert_eq!(status, 200, "the session the change came from stays");
    let (status, _) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "pia_l", "password": "a brand new password"}),
        )
        .await;
    assert_eq!(status, 200);
}

pub async fn one_patch_changes_role_and_state_together_or_not_at_all(app: &TestApp) {
    let ada = app.user_with_role("ada_both", Role::Admin).await;
    let tim = app.user_with_role("tim_both", Role::Tutor).await;
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", tim.id),
            &ada.token,
            Some(json!({"role": "student", "is_active": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["role"].as_str(), body["is_active"].as_bool()),
        (Some("student"), Some(false)),
        "{body}"
    );
    // Both changes are audited, and the account is locked out at once.
    let (status, audit) = app
        .get(
            &format!(
                "/api/admin/audit?actor_id={}&object_type=user&object_id={}",
                ada.id, tim.id
            ),
            Some(&ada.token),
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    let mut actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        vec!["admin.role_changed", "admin.user_deactivated"],
        "{audit}"
    );
    let (status, _) = app.get("/api/messages/threads", Some(&tim.token)).await;
    assert_eq!(status, 401);

    // An admin who would deactivate themselves changes nothing, not even the other field.
    let bob = app.user_with_role("bob_both", Role::Admin).await;
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", bob.id),
            &bob.token,
            Some(json!({"role": "admin", "is_active": false})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("SELF_CHANGE")),
        "{body}"
    );
    let (status, audit) = app
        .get(
            &format!(
                "/api/admin/audit?actor_id={}&action=admin.role_changed",
                bob.id
            ),
            Some(&ada.token),
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(
        audit["entries"],
        json!([]),
        "the refused patch stored nothing"
    );
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", bob.id),
            &ada.token,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["role"].as_str(), body["is_active"].as_bool()),
        (Some("admin"), Some(true)),
        "{body}"
    );
}
