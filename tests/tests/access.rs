//! The route-table access test: every route of `parkbridge::http::routes::table()` is called on
//! the real binary by anonymous callers, each role, and API keys of each scope, and must refuse
//! exactly the callers its `Access` rule excludes (401 without credentials, 403 for the wrong role
//! or scope). A new route joins the table, so it joins this test; a new kind of `Access` does not
//! compile here until the test says how to check it.

use e2e::on_both_backends;
use e2e::server::TestServer;
use parkbridge::accounts::Role;
use parkbridge::api_keys::Scope;
use parkbridge::http::access::Access;
use parkbridge::http::routes::{self, Route};

const PASSWORD: &str = "route-table-password";

fn username(role: Role) -> String {
    format!("rt_{}", role.as_str())
}

/// The path with every `{param}` segment replaced by `1`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "1" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Who a rule lets in, written out here independently of `Access::admits`.
struct Admitted {
    anonymous: bool,
    roles: Vec<Role>,
    /// `None`: no key passes; `Some(vec![])`: any valid key; otherwise keys with one of these.
    scopes: Option<Vec<Scope>>,
    /// Only a Mallcoo signature passes: people and API keys alike get 401 (no signature). The
    /// signed calls that pass are proven in `mallcoo_api.rs`, which sets up a car park's keys.
    mallcoo: bool,
}

fn admitted(access: Access) -> Admitted {
    // No wildcard arm: a new kind of rule must be taught to this test before it compiles.
    match access {
        Access::Public => Admitted {
            anonymous: true,
            roles: Role::ALL.to_vec(),
            scopes: Some(vec![]),
            mallcoo: false,
        },
        Access::SignedIn => Admitted {
            anonymous: false,
            roles: Role::ALL.to_vec(),
            scopes: None,
            mallcoo: false,
        },
        Access::Staff => Admitted {
            anonymous: false,
            roles: vec![Role::Admin, Role::PropertyManager, Role::MallStaff],
            scopes: None,
            mallcoo: false,
        },
        Access::Merchant => Admitted {
            anonymous: false,
            roles: vec![Role::Merchant],
            scopes: None,
            mallcoo: false,
        },
        Access::Roles(roles) => Admitted {
            anonymous: false,
            roles: Role::ALL
                .into_iter()
                .filter(|r| *r == Role::Admin || roles.contains(r))
                .collect(),
            scopes: None,
            mallcoo: false,
        },
        Access::Machine(scope) => Admitted {
            anonymous: false,
            roles: vec![],
            scopes: Some(vec![scope]),
            mallcoo: false,
        },
        Access::AnyMachine => Admitted {
            anonymous: false,
            roles: vec![],
            scopes: Some(vec![]),
            mallcoo: false,
        },
        Access::MallcooSigned => Admitted {
            anonymous: false,
            roles: vec![],
            scopes: None,
            mallcoo: true,
        },
    }
}

/// Creates the merchant user of a shop of a car park (`rt_merchant`).
async fn add_merchant(server: &TestServer) {
    let admin = server.signed_in(&username(Role::Admin), PASSWORD).await;
    let post =
        |path: &str, body: serde_json::Value| admin.post(server.url(path)).json(&body).send();
    let park: serde_json::Value = post(
        "/api/v1/parks",
        serde_json::json!({"code": "rt-park", "name": "路由表"}),
    )
    .await
    .expect("park")
    .json()
    .await
    .expect("park json");
    let park = park["id"].as_i64().expect("park id");
    let shop: serde_json::Value = post(
        &format!("/api/v1/parks/{park}/shops"),
        serde_json::json!({"name": "rt shop"}),
    )
    .await
    .expect("shop")
    .json()
    .await
    .expect("shop json");
    let shop = shop["id"].as_i64().expect("shop id");
    let resp = post(
        "/api/v1/users",
        serde_json::json!({"username": username(Role::Merchant), "password": PASSWORD, "role": "merchant", "shop_id": shop}),
    )
    .await
    .expect("merchant");
    assert_eq!(
        resp.status(),
        201,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

/// Sends the route's request (an empty JSON object as body where one is expected).
async fn status(
    server: &TestServer,
    client: &reqwest::Client,
    route: &Route,
    key: Option<&str>,
) -> u16 {
    let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).expect("method");
    let mut req = client.request(method.clone(), server.url(&concrete(route.path)));
    if [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
    ]
    .contains(&method)
    {
        req = req.json(&serde_json::json!({}));
    }
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    req.send().await.expect("request").status().as_u16()
}

fn scope_list(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

on_both_backends! {
    async fn every_route_refuses_exactly_the_callers_its_access_rule_excludes(server: TestServer) {
        let table = routes::table();
        assert!(!table.is_empty(), "the route table is empty");
        // A merchant is bound to a shop, made through the API like an admin makes one.
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Merchant) {
            server.add_user(&username(role), role.as_str(), PASSWORD);
        }
        add_merchant(&server).await;
        let anonymous = reqwest::Client::new();
        let mut people = Vec::new();
        for role in Role::ALL {
            people.push((role, server.signed_in(&username(role), PASSWORD).await));
        }
        let all_scopes = server.api_key("rt all", &scope_list(&Scope::ALL), None);
        let revoked = server.api_key("rt revoked", "gate", None);
        let prefix = revoked.split('_').nth(1).expect("pbk_<prefix>_<secret>");
        let out = server.cli(&["apikey", "revoke", "--prefix", prefix], "");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut single_scope = Vec::new();
        for scope in Scope::ALL {
            single_scope.push((scope, server.api_key("rt one", scope.as_str(), None)));
        }

        // Refusals first: they never reach a handler, so they change nothing.
        let mut checked = 0;
        for route in &table {
            let who = admitted(route.access);
            let name = format!("{} {}", route.method, route.path);
            if !who.anonymous {
                assert_eq!(status(&server, &anonymous, route, None).await, 401, "anonymous: {name}");
                assert_eq!(status(&server, &anonymous, route, Some(&revoked)).await, 401, "revoked key: {name}");
                checked += 1;
            }
            for (role, client) in &people {
                if !who.roles.contains(role) {
                    // A person on a machine or Mallcoo route has no key or signature: 401. On a
                    // people's route: 403.
                    let expected = if who.scopes.is_some() || who.mallcoo { 401 } else { 403 };
                    assert_eq!(status(&server, client, route, None).await, expected, "{role:?}: {name}");
                }
            }
            match &who.scopes {
                None => {
                    // A key is no session (nor a Mallcoo signature): 401.
                    assert_eq!(status(&server, &anonymous, route, Some(&all_scopes)).await, 401, "key on {name}");
                }
                Some(wanted) if !wanted.is_empty() => {
                    for (scope, key) in &single_scope {
                        if !wanted.contains(scope) {
                            assert_eq!(status(&server, &anonymous, route, Some(key)).await, 403, "{scope:?} key: {name}");
                        }
                    }
                }
                Some(_) => {}
            }
        }
        assert!(checked > 0, "no route is protected at all");

        // Admissions: each admitted caller gets past the access check (a fresh session or key
        // per call, as an admitted call may sign out or revoke).
        for route in &table {
            let who = admitted(route.access);
            let name = format!("{} {}", route.method, route.path);
            if who.anonymous {
                let s = status(&server, &anonymous, route, None).await;
                assert!(s != 401 && s != 403, "anonymous got {s} from public {name}");
            }
            for role in &who.roles {
                let client = server.signed_in(&username(*role), PASSWORD).await;
                let s = status(&server, &client, route, None).await;
                assert!(s != 401 && s != 403, "{role:?} got {s} from {name}");
            }
            if let Some(wanted) = &who.scopes {
                let scopes: Vec<Scope> = if wanted.is_empty() { Scope::ALL.to_vec() } else { wanted.clone() };
                for scope in scopes {
                    let key = server.api_key("rt admitted", scope.as_str(), None);
                    let s = status(&server, &anonymous, route, Some(&key)).await;
                    assert!(s != 401 && s != 403, "{scope:?} key got {s} from {name}");
                }
            }
        }
    }
}
