//! The routes a front end needs beyond the seed systems': who am I, changing one's password, the
//! directory, a clinician's patients, the admins' user list and audit verification; and the web
//! client itself, served with a strict policy.

use chrono::Utc;
use messaging_domain::user::{BookingState, Role, UserId};
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp};

fn usernames(body: &Value, key: &str) -> Vec<String> {
    let mut names: Vec<String> = body[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

pub async fn me_shows_the_caller_their_role_and_settings(app: &TestApp) {
    let ada = app.register("ada").await;
    let (status, me) = app.get("/api/me", Some(&ada.token)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (
            me["id"].as_i64(),
            me["username"].as_str(),
            me["email"].as_str()
        ),
        (Some(ada.id), Some("ada"), Some("ada@example.com"))
    );
    assert_eq!(
        (me["role"].as_str(), me["presence_visible"].as_bool()),
        (Some("student"), Some(true))
    );
    assert_eq!(me["edit_window_seconds"], 900);
    let status = app
        .request(
            "PUT",
            "/api/me/presence",
            Some(&ada.token),
            Some(json!({"visible": false})),
        )
        .await
        .0;
    assert_eq!(status, 204);
    let (_, me) = app.get("/api/me", Some(&ada.token)).await;
    assert_eq!(me["presence_visible"], false);
    let (status, _) = app.get("/api/me", None).await;
    assert_eq!(status, 401);
}

pub async fn a_password_change_needs_the_current_password_and_revokes_other_sessions(
    app: &TestApp,
) {
    let ada = app.register("ada").await;
    let tokens = app.login("ada").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (status, body) = app
        .request(
            "PUT",
            "/api/me/password",
            Some(&ada.token),
            Some(change("wrong one", "new password 1")),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("WRONG_PASSWORD"))
    );
    let (status, body) = app
        .request(
            "PUT",
            "/api/me/password",
            Some(&ada.token),
            Some(change(PASSWORD, "short")),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("new_password"))
    );
    // Neither refusal changed anything: the old password still logs in.
    app.login("ada").await;

    let (status, body) = app
        .request(
            "PUT",
            "/api/me/password",
            Some(&ada.token),
            Some(change(PASSWORD, "new password 1")),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = app
        .post("/api/auth/refresh", None, json!({"refresh_token": refresh}))
        .await;
    assert_eq!(
        status, 401,
        "refresh tokens issued before the change are revoked"
    );
    let (status, _) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "ada", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "ada", "password": "new password 1"}),
        )
        .await;
    assert_eq!(status, 200);
}

pub async fn the_directory_lists_only_whom_the_caller_may_start_a_conversation_with(app: &TestApp) {
    let student = app.register("stu").await;
    let booked = app.user_with_role("tutor_booked", Role::Tutor).await;
    let _unbooked = app.user_with_role("tutor_other", Role::Tutor).await;
    let cancelled = app.user_with_role("tutor_cancelled", Role::Tutor).await;
    let clinician = app.user_with_role("doc", Role::Clinician).await;
    let patient = app.user_with_role("pat", Role::Patient).await;
    let _other_patient = app.user_with_role("pat_other", Role::Patient).await;
    let admin = app.user_with_role("root", Role::Admin).await;
    let now = Utc::now();
    app.store
        .create_booking(
            UserId(student.id),
            UserId(booked.id),
            BookingState::Requested,
            now,
        )
        .await
        .unwrap();
    app.store
        .create_booking(
            UserId(student.id),
            UserId(cancelled.id),
            BookingState::Cancelled,
            now,
        )
        .await
        .unwrap();
    app.store
        .assign_clinician(UserId(clinician.id), UserId(patient.id), now)
        .await
        .unwrap();

    let people = |token: String, q: &'static str| async move {
        let (status, body) = app.get(&format!("/api/people{q}"), Some(&token)).await;
        assert_eq!(status, 200, "{body}");
        usernames(&body, "people")
    };
    assert_eq!(people(student.token.clone(), "").await, ["tutor_booked"]);
    assert_eq!(people(booked.token.clone(), "").await, ["stu"]);
    assert_eq!(people(clinician.token.clone(), "").await, ["pat"]);
    assert!(people(patient.token.clone(), "").await.is_empty());
    let everyone = people(admin.token.clone(), "").await;
    assert_eq!(everyone.len(), 7, "{everyone:?}");
    assert!(!everyone.contains(&"root".to_owned()));
    assert_eq!(people(admin.token.clone(), "?q=PAT_").await, ["pat_other"]);
    // LIKE's wildcards are matched literally.
    assert!(people(admin.token.clone(), "?q=%25").await.is_empty());

    // A deactivated user is never listed.
    app.store
        .set_user_active(UserId(booked.id), false)
        .await
        .unwrap();
    assert!(people(student.token.clone(), "").await.is_empty());
    let (status, body) = app
        .get(
            &format!("/api/people?q={}", "x".repeat(101)),
            Some(&admin.token),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("VALIDATION_FAILED"))
    );
}

pub async fn clinicians_get_their_patients_with_last_message_and_unread_count(app: &TestApp) {
    let clinician = app.user_with_role("doc", Role::Clinician).await;
    let quiet = app.user_with_role("pat_quiet", Role::Patient).await;
    let talking = app.user_with_role("pat_talking", Role::Patient).await;
    let _unassigned = app.user_with_role("pat_none", Role::Patient).await;
    for patient in [&quiet, &talking] {
        app.store
            .assign_clinician(UserId(clinician.id), UserId(patient.id), Utc::now())
            .await
            .unwrap();
    }
    app.send(&clinician, &talking, "How are you?").await;
    app.send(&talking, &clinician, "Better, thanks").await;
    app.send(&talking, &clinician, "Slept well too").await;

    let (status, body) = app
        .get("/api/clinician/patients", Some(&clinician.token))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(usernames(&body, "patients"), ["pat_quiet", "pat_talking"]);
    let entry = |name: &str| {
        body["patients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["username"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(entry("pat_quiet")["last_message"], Value::Null);
    assert_eq!(entry("pat_quiet")["unread_count"], 0);
    let talking_entry = entry("pat_talking");
    assert_eq!(talking_entry["last_message"]["preview"], "Slept well too");
    assert_eq!(talking_entry["last_message"]["sender_id"], talking.id);
    assert_eq!(talking_entry["unread_count"], 2);

    let (status, body) = app
        .get("/api/clinician/patients", Some(&talking.token))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("CLINICIAN_ONLY"))
    );
}

pub async fn admins_list_and_search_users_and_verify_the_audit_log(app: &TestApp) {
    let admin = app.user_with_role("root", Role::Admin).await;
    let student = app.register("stella").await;
    app.user_with_role("theo", Role::Tutor).await;

    let (status, body) = app.get("/api/admin/users", Some(&admin.token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(usernames(&body, "users"), ["root", "stella", "theo"]);
    assert_eq!(body["users"][1]["email"], "stella@example.com");
    let (_, body) = app
        .get("/api/admin/users?q=STELLA%40example", Some(&admin.token))
        .await;
    assert_eq!(usernames(&body, "users"), ["stella"]);
    let (_, body) = app
        .get("/api/admin/users?role=tutor", Some(&admin.token))
        .await;
    assert_eq!(usernames(&body, "users"), ["theo"]);
    let (_, body) = app
        .get("/api/admin/users?limit=1&page=2", Some(&admin.token))
        .await;
    assert_eq!(usernames(&body, "users"), ["stella"]);
    let (status, body) = app
        .get("/api/admin/users?role=wizard", Some(&admin.token))
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("role")));
    let (status, body) = app.get("/api/admin/users", Some(&student.token)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("ADMIN_ONLY")));

    let (status, body) = app.get("/api/admin/audit/verify", Some(&admin.token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["intact"], true);
    assert!(body["checked"].as_u64().unwrap() > 0, "{body}");
    let (status, _) = app
        .get("/api/admin/audit/verify", Some(&student.token))
        .await;
    assert_eq!(status, 403);
}

pub async fn the_web_client_is_served_with_a_strict_policy_and_versioned_assets(app: &TestApp) {
    let client = awc::Client::default();
    let mut page = client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let header = |name: &str| {
        page.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let policy = header("content-security-policy");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("style-src 'self'"), "{policy}");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    assert!(policy.contains("connect-src 'self' ws://"), "{policy}");
    assert_eq!(header("cache-control"), "no-cache");
    let html = String::from_utf8(page.body().await.unwrap().to_vec()).unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );
    let start = html.find("/assets/").unwrap();
    let script = &html[start..start + html[start..].find('"').unwrap()];
    assert!(script.ends_with("/icon.svg") || script.ends_with(".js") || script.ends_with(".css"));
    let version = script.split('/').nth(2).unwrap().to_owned();

    let mut asset = client
        .get(format!("{}/assets/{version}/app.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status().as_u16(), 200);
    assert!(
        asset
            .headers()
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        asset
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let js = String::from_utf8(asset.body().await.unwrap().to_vec()).unwrap();
    assert!(
        !js.contains("innerHTML"),
        "user text is never parsed as HTML"
    );
    let stale = client
        .get(format!("{}/assets/0000/app.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 404);
    let missing = client
        .get(format!("{}/assets/{version}/nope.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
