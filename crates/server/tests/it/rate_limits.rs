//! Rate limits as a client notices them: 429 `RATE_LIMITED` with `Retry-After` and
//! `retry_after`, per user for sending and per address and username for login and registration.
//! Each test spawns the app with tight limits; the other tests run with generous ones.
//!
//! The per-second quota refills one send a second, so the tests that spend a burst send all at
//! once, after every slow set-up step (password hashing) is done; the others use quotas that
//! refill over hours.

use messaging_domain::user::Role;
use serde_json::{Value, json};

use crate::support::{Backend, PASSWORD, TestApp, TestUser};

/// What a refused (or accepted) request looked like.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after_header: Option<u64>,
    content_type: String,
    body: Value,
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> Answer {
    post_with(&awc::Client::default(), app, path, token, body).await
}

async fn post_with(
    client: &awc::Client,
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Answer {
    let mut req = client.post(format!("{}{}", app.base, path));
    if let Some(token) = token {
        req = req.insert_header(("Authorization", format!("Bearer {token}")));
    }
    let mut resp = req.send_json(&body).await.unwrap();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let retry_after_header = header("retry-after").map(|v| v.parse().unwrap());
    let content_type = header("content-type").unwrap_or_default();
    let bytes = resp.body().await.unwrap();
    Answer {
        status: resp.status().as_u16(),
        retry_after_header,
        content_type,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// Asserts a 429 `RATE_LIMITED` problem whose header and body agree; returns the seconds.
#[track_caller]
fn assert_rate_limited(answer: &Answer) -> u64 {
    assert_eq!(answer.status, 429, "{answer:?}");
    assert_eq!(answer.body["code"], "RATE_LIMITED", "{answer:?}");
    assert_eq!(answer.body["status"], 429, "{answer:?}");
    assert_eq!(answer.content_type, "application/problem+json");
    let seconds = answer.retry_after_header.expect("a Retry-After header");
    assert!(seconds >= 1, "{answer:?}");
    assert_eq!(answer.body["retry_after"], seconds, "{answer:?}");
    seconds
}

async fn send(app: &TestApp, from: &TestUser, to: &TestUser, text: &str) -> Answer {
    post(
        app,
        "/api/messages",
        Some(&from.token),
        json!({"recipient_id": to.id, "message": text}),
    )
    .await
}

async fn login(app: &TestApp, username: &str, password: &str) -> Answer {
    post(
        app,
        "/api/auth/login",
        None,
        json!({"username": username, "password": password}),
    )
    .await
}

async fn register(app: &TestApp, username: &str) -> Answer {
    post(
        app,
        "/api/auth/register",
        None,
        json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": PASSWORD,
        }),
    )
    .await
}

#[actix_web::test]
async fn sends_beyond_the_burst_are_refused_with_retry_after_and_store_nothing() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.send_per_second = 1;
        s.send_burst = 3;
        s.send_per_day = 500;
    })
    .await
    .unwrap();
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    // All four at once: the per-second quota refills one send a second, and four requests sent
    // one after another could take longer than that on a loaded machine.
    let texts: Vec<String> = (1..=4).map(|n| format!("message {n}")).collect();
    let mut answers: Vec<Answer> =
        futures_util::future::join_all(texts.iter().map(|text| send(&app, &alice, &bob, text)))
            .await;
    answers.sort_by_key(|a| a.status);
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [201, 201, 201, 429], "{answers:?}");
    let refused = answers.pop().unwrap();
    let seconds = assert_rate_limited(&refused);
    assert_eq!(seconds, 1, "one send a second refills the quota");

    let (_, unread) = app
        .get("/api/messages/unread-count", Some(&bob.token))
        .await;
    assert_eq!(
        unread["total"], 3,
        "the refused send was not stored: {unread}"
    );
    let (_, threads) = app.get("/api/messages/threads", Some(&bob.token)).await;
    assert_eq!(threads[0]["unread_count"], 3, "{threads}");
}

#[actix_web::test]
async fn one_users_spent_limit_does_not_limit_another() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.send_per_second = 1;
        s.send_burst = 2;
    })
    .await
    .unwrap();
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    let mut answers = futures_util::future::join_all(
        ["one", "two", "three"].map(|text| send(&app, &alice, &bob, text)),
    )
    .await;
    answers.sort_by_key(|a| a.status);
    assert_eq!(
        answers.iter().map(|a| a.status).collect::<Vec<_>>(),
        [201, 201, 429]
    );
    assert_rate_limited(&answers[2]);
    assert_eq!(send(&app, &carol, &bob, "from carol").await.status, 201);
    assert_eq!(send(&app, &carol, &alice, "to alice").await.status, 201);
}

#[actix_web::test]
async fn every_send_route_draws_on_the_same_quota() {
    // The daily quota, not the per-second one: it does not refill while a loaded machine takes
    // its time between the requests.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.send_per_second = 0;
        s.send_per_day = 1;
    })
    .await
    .unwrap();
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let admin = app.user_with_role("admin", Role::Admin).await;
    let doctor = app.user_with_role("doctor", Role::Clinician).await;
    let patient = app.user_with_role("patient", Role::Patient).await;
    let (status, body) = app
        .post(
            "/api/admin/care-assignments",
            Some(&admin.token),
            json!({"clinician_id": doctor.id, "patient_id": patient.id}),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    let sent = send(&app, &alice, &bob, "hello").await;
    assert_eq!(sent.status, 201, "{sent:?}");
    let id = sent.body["id"].as_i64().unwrap();
    let by_username = post(
        &app,
        "/api/messages/send",
        Some(&alice.token),
        json!({"recipient": "bob", "content": "again"}),
    )
    .await;
    assert_rate_limited(&by_username);
    let reply = post(
        &app,
        &format!("/api/messages/{id}/reply"),
        Some(&alice.token),
        json!({"content": "and again"}),
    )
    .await;
    assert_rate_limited(&reply);

    let first = post(
        &app,
        "/api/messages/send",
        Some(&doctor.token),
        json!({"recipient": "patient", "content": "How are you?"}),
    )
    .await;
    assert_eq!(first.status, 201, "{first:?}");
    let clinician = post(
        &app,
        "/api/clinician/message",
        Some(&doctor.token),
        json!({"recipient_username": "patient", "message": "Reminder"}),
    )
    .await;
    assert_rate_limited(&clinician);

    let (_, unread) = app
        .get("/api/messages/unread-count", Some(&bob.token))
        .await;
    assert_eq!(unread["total"], 1, "{unread}");
    let (_, unread) = app
        .get("/api/messages/unread-count", Some(&patient.token))
        .await;
    assert_eq!(unread["total"], 1, "{unread}");
}

#[actix_web::test]
async fn the_daily_cap_refuses_sends_until_the_allowance_refills() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.send_per_second = 0;
        s.send_per_day = 2;
    })
    .await
    .unwrap();
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    assert_eq!(send(&app, &alice, &bob, "one").await.status, 201);
    assert_eq!(send(&app, &alice, &bob, "two").await.status, 201);
    let seconds = assert_rate_limited(&send(&app, &alice, &bob, "three").await);
    // Two a day refill one every twelve hours.
    assert!(
        (43_000..=43_200).contains(&seconds),
        "retry after {seconds} s"
    );
    assert_eq!(send(&app, &bob, &alice, "bob's own day").await.status, 201);
    let (_, unread) = app
        .get("/api/messages/unread-count", Some(&bob.token))
        .await;
    assert_eq!(unread["total"], 2, "{unread}");
}

#[actix_web::test]
async fn logins_are_limited_per_username_and_per_address_before_the_password_is_checked() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.login_per_minute_per_username = 3;
        s.login_per_minute = 6;
    })
    .await
    .unwrap();
    for name in ["alice", "bob", "carol"] {
        let answer = register(&app, name).await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }

    for _ in 0..3 {
        let answer = login(&app, "alice", "wrong password").await;
        assert_eq!(answer.status, 401, "{answer:?}");
    }
    let seconds = assert_rate_limited(&login(&app, "alice", PASSWORD).await);
    assert!(
        seconds <= 20,
        "three a minute refill one every 20 s: {seconds}"
    );
    assert_rate_limited(&login(&app, " ALICE ", PASSWORD).await);

    // Five attempts from this address so far: one more passes, for another username.
    let answer = login(&app, "bob", PASSWORD).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let seconds = assert_rate_limited(&login(&app, "carol", PASSWORD).await);
    assert!(
        seconds <= 10,
        "six a minute refill one every 10 s: {seconds}"
    );
}

#[actix_web::test]
async fn registrations_are_limited_per_address() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.register_per_hour = 2;
    })
    .await
    .unwrap();
    assert_eq!(register(&app, "alice").await.status, 201);
    assert_eq!(register(&app, "bob").await.status, 201);
    let seconds = assert_rate_limited(&register(&app, "carol").await);
    assert!(
        (1_700..=1_800).contains(&seconds),
        "two an hour refill one every 30 minutes: {seconds}"
    );
    let answer = login(&app, "carol", PASSWORD).await;
    assert_eq!(answer.status, 401, "no account was created: {answer:?}");
}

#[actix_web::test]
async fn registrations_are_limited_per_username() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.register_per_hour_per_username = 2;
    })
    .await
    .unwrap();
    assert_eq!(register(&app, "dora").await.status, 201);
    // The name is taken, and a second try for it is still counted; the third is refused
    // before anything else happens, whatever the case of the name.
    assert_eq!(register(&app, "dora").await.status, 409);
    assert_rate_limited(&register(&app, "DORA").await);
    assert_eq!(
        register(&app, "edgar").await.status,
        201,
        "other names are not limited"
    );
}

/// With several instances on one PostgreSQL, the limits hold for the whole service: a quota spent
/// through one instance is spent on the other too (in memory, each allowed the full quota).
#[actix_web::test]
async fn instances_on_one_database_share_every_quota() {
    let Some(one) = TestApp::spawn_with(Backend::Postgres, |s| {
        s.send_per_second = 0;
        s.send_per_day = 2;
        s.login_per_minute_per_username = 2;
    })
    .await
    else {
        return;
    };
    let two = one.another_instance().await;
    let alice = one.register("alice").await;
    let bob = one.register("bob").await;
    assert_eq!(send(&one, &alice, &bob, "one").await.status, 201);
    assert_eq!(send(&two, &alice, &bob, "two").await.status, 201);
    assert_rate_limited(&send(&two, &alice, &bob, "three").await);
    assert_rate_limited(&send(&one, &alice, &bob, "four").await);
    assert_eq!(send(&two, &bob, &alice, "bob's own").await.status, 201);

    // Two logins a minute for one name, wherever they land.
    assert_eq!(register(&one, "carol").await.status, 201);
    assert_eq!(login(&two, "carol", PASSWORD).await.status, 200);
    assert_eq!(login(&one, "carol", PASSWORD).await.status, 200);
    assert_rate_limited(&login(&one, "carol", PASSWORD).await);
    assert_rate_limited(&login(&two, "carol", PASSWORD).await);
}

/// Password checks run on a bounded number of hashing threads behind a bounded queue: a login
/// storm beyond them is answered 503 `SERVER_BUSY` with `Retry-After` at once, instead of every
/// attempt holding 19 MiB of argon2 memory on a thread of its own, and the server stays up.
/// One hashing thread and a queue of one make the storm small; the account's hash takes long to
/// check (many argon2 passes), so the thread is busy while the storm arrives.
#[actix_web::test]
async fn logins_beyond_the_hashing_queue_get_503_with_retry_after_and_the_server_stays_up() {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.hash_threads = Some(1);
        s.hash_queue = 1;
    })
    .await
    .unwrap();
    let slow_hash = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(Params::DEFAULT_M_COST, 20, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes())
    .unwrap()
    .to_string();
    app.account_with_hash("slowpoke", Role::Student, slow_hash)
        .await;

    // Checks of that hash queue behind each other; the client waits as long as they take.
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .finish();
    let storm: Vec<_> = (0..12)
        .map(|_| {
            let (app, client) = (&app, &client);
            let body = json!({"username": "slowpoke", "password": "wrong password"});
            async move { post_with(client, app, "/api/auth/login", None, body).await }
        })
        .collect();
    let answers = futures_util::future::join_all(storm).await;
    let busy: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    assert!(!busy.is_empty(), "no 503 in {answers:?}");
    for answer in &busy {
        assert_eq!(answer.body["code"], "SERVER_BUSY", "{answer:?}");
        assert_eq!(answer.content_type, "application/problem+json");
        let seconds = answer.retry_after_header.expect("a Retry-After header");
        assert!(seconds >= 1, "{answer:?}");
        assert_eq!(answer.body["retry_after"], seconds, "{answer:?}");
    }
    assert!(
        answers.iter().all(|a| a.status == 503 || a.status == 401),
        "{answers:?}"
    );
    // The storm passed; the server answers and hashes as before.
    app.register("after").await;
    assert_eq!(login(&app, "after", PASSWORD).await.status, 200);
}
