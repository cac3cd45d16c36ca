//! The audit log as admins read it through `GET /api/admin/audit`.

use messaging_domain::user::Role;
use serde_json::{Value, json};

use crate::support::TestApp;

fn entries(list: &Value) -> &Vec<Value> {
    list["entries"].as_array().unwrap()
}

/// The entries of one action, newest first.
fn with_action<'a>(list: &'a Value, action: &str) -> Vec<&'a Value> {
    entries(list)
        .iter()
        .filter(|e| e["action"] == action)
        .collect()
}

pub async fn admins_see_sends_reads_and_logins_with_the_client_address(app: &TestApp) {
    let admin = app.user_with_role("root_audit", Role::Admin).await;
    let amy = app.register("amy").await;
    let bea = app.register("bea").await;
    let sent = app
        .send(&amy, &bea, "Meet me at 10, my number is 0170 1234567")
        .await;
    let message_id = sent["id"].as_i64().unwrap();
    let (status, _) = app
        .patch(
            &format!("/api/messages/{message_id}/read"),
            &bea.token,
            None,
        )
        .await;
    assert_eq!(status, 200);

    let (status, list) = app.get("/api/admin/audit", Some(&admin.token)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!((&list["page"], &list["limit"]), (&json!(1), &json!(50)));
    let send = with_action(&list, "message.sent");
    assert_eq!(send.len(), 1, "{list}");
    assert_eq!(
        (
            &send[0]["actor_id"],
            &send[0]["object_type"],
            &send[0]["object_id"],
            &send[0]["client_addr"]
        ),
        (
            &json!(amy.id),
            &json!("message"),
            &json!(message_id),
            &json!("127.0.0.1")
        )
    );
    let read = with_action(&list, "message.read");
    assert_eq!(
        (
            &read[0]["actor_id"],
            &read[0]["object_id"],
            &read[0]["client_addr"]
        ),
        (&json!(bea.id), &json!(message_id), &json!("127.0.0.1"))
    );
    let logins = with_action(&list, "auth.login_succeeded");
    assert!(
        logins
            .iter()
            .any(|e| e["actor_id"] == amy.id && e["client_addr"] == "127.0.0.1"),
        "{list}"
    );
    let ids: Vec<i64> = entries(&list)
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    for entry in entries(&list) {
        let hash = entry["hash"].as_str().unwrap_or_default();
        assert!(
            hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{entry}"
        );
        assert!(entry["at"].as_str().is_some(), "{entry}");
    }
    // Who did what to which object, never what was said or anyone's address book. The hashes are
    // left out of the check: random hex can contain "0170" by chance.
    let mut without_hashes = list.clone();
    for entry in without_hashes["entries"].as_array_mut().unwrap() {
        entry.as_object_mut().unwrap().remove("hash");
    }
    let text = without_hashes.to_string();
    for secret in ["Meet me", "0170", "@example.com"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(app.store.verify_audit_chain().await.unwrap().is_intact());
}

pub async fn audit_filters_by_action_and_actor_and_refuses_bad_values(app: &TestApp) {
    let admin = app.user_with_role("root_filter", Role::Admin).await;
    let cid = app.register("cid").await;
    let dee = app.register("dee").await;
    app.send(&cid, &dee, "one").await;
    app.send(&dee, &cid, "two").await;
    app.send(&cid, &dee, "three").await;
    let (status, failed) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "cid", "password": "wrong password"}),
        )
        .await;
    assert_eq!(status, 401, "{failed}");

    let (status, sent) = app
        .get("/api/admin/audit?action=message.sent", Some(&admin.token))
        .await;
    assert_eq!(status, 200, "{sent}");
    let actors: Vec<&Value> = entries(&sent).iter().map(|e| &e["actor_id"]).collect();
    assert_eq!(actors, [&json!(cid.id), &json!(dee.id), &json!(cid.id)]);

    let (_, by_cid) = app
        .get(
            &format!("/api/admin/audit?actor_id={}", cid.id),
            Some(&admin.token),
        )
        .await;
    let actions: Vec<&str> = entries(&by_cid)
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "message.sent",
            "message.sent",
            "auth.login_succeeded",
            "auth.registered"
        ],
        "a failed login has no actor; the other user's send is not cid's"
    );
    let (_, both) = app
        .get(
            &format!(
                "/api/admin/audit?actor_id={}&action=message.sent&limit=1&page=2",
                cid.id
            ),
            Some(&admin.token),
        )
        .await;
    assert_eq!(entries(&both).len(), 1);
    assert_eq!(
        (
            &both["page"],
            &both["limit"],
            &entries(&both)[0]["actor_id"]
        ),
        (&json!(2), &json!(1), &json!(cid.id))
    );
    let (_, failures) = app
        .get(
            "/api/admin/audit?action=auth.login_failed&since=2000-01-01T00:00:00Z",
            Some(&admin.token),
        )
        .await;
    assert_eq!(entries(&failures).len(), 1, "{failures}");
    assert_eq!(entries(&failures)[0]["actor_id"], Value::Null);
    let (_, future) = app
        .get(
            "/api/admin/audit?since=2999-01-01T00:00:00Z",
            Some(&admin.token),
        )
        .await;
    assert!(entries(&future).is_empty(), "{future}");
    // A range that ends before it starts holds nothing: an empty page, not an error.
    let (status, inverted) = app
        .get(
            "/api/admin/audit?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
            Some(&admin.token),
        )
        .await;
    assert_eq!(status, 200, "{inverted}");
    assert!(entries(&inverted).is_empty(), "{inverted}");

    for (query, status, field) in [
        ("since=yesterday", 422, Some("since")),
        ("action=DROP%20TABLE", 422, Some("action")),
        ("limit=0", 422, Some("limit")),
        ("page=0", 422, Some("page")),
        ("actor_id=abc", 400, None),
    ] {
        let (got, body) = app
            .get(&format!("/api/admin/audit?{query}"), Some(&admin.token))
            .await;
        assert_eq!(
            (got, body["field"].as_str()),
            (status, field),
            "{query}: {body}"
        );
    }
}

pub async fn only_admins_read_the_audit_log(app: &TestApp) {
    let eve = app.register("eve").await;
    let tutor = app.user_with_role("tom_audit", Role::Tutor).await;
    for user in [&eve, &tutor] {
        let (status, body) = app.get("/api/admin/audit", Some(&user.token)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("ADMIN_ONLY")),
            "{body}"
        );
        assert!(body.get("entries").is_none());
    }
    let (status, body) = app.get("/api/admin/audit", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
}
