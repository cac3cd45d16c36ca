//! Admin screens: changing a role, and deactivating a user whose open browser is then logged out.

use messaging_domain::ports::People;
use messaging_domain::user::{Role, UserId};

use crate::harness::Driver;
use crate::support::{PASSWORD, TestApp};

pub async fn an_admin_changes_a_role_and_a_deactivated_users_browser_is_logged_out(
    app: &TestApp,
    driver: &mut Driver,
) {
    let _admin = app.user_with_role("root", Role::Admin).await;
    let una = app.register("una").await;
    let u = driver.browser(&app.base, 1280, 900).await;
    u.log_in("una", PASSWORD).await;
    u.open("/#/settings").await;
    u.wait_for_text("h2", "Change password").await;
    u.assert_accessible("the settings page").await;

    let a = driver.browser(&app.base, 1280, 900).await;
    a.log_in("root", PASSWORD).await;
    a.open("/#/admin").await;
    a.wait_for_text("#admin-users", "una").await;
    a.assert_accessible("the admin page").await;
    a.fill("#admin-q", "una\u{E007}").await;
    a.wait_until(
        "document.querySelectorAll('#admin-users tr').length === 1",
        "only una listed",
    )
    .await;
    a.js(
        "const s = document.querySelector('tr[data-user=una] select'); s.value = 'tutor'; return true;",
        vec![],
    )
    .await;
    a.click_text("tr[data-user=una] button", "Save role").await;
    a.wait_for_text("#admin-status", "una is now tutor").await;
    let user = app.store.user(UserId(una.id)).await.unwrap().unwrap();
    assert_eq!(user.role, Role::Tutor);

    a.click_text("tr[data-user=una] button", "Deactivate").await;
    a.wait_for_text("#admin-status", "una is now deactivated")
        .await;
    // Una's open page is closed out at once (her socket is closed with 1008).
    u.wait_until(
        "document.querySelector('#login-username')",
        "Una's login screen",
    )
    .await;
    u.wait_for_text(".notice", "signed out").await;

    a.click_text("button", "Verify the hash chains").await;
    a.wait_for_text("#audit-verify", "intact").await;
    a.close().await;
    u.close().await;
}
