//! `GET /api/openapi.json`: the OpenAPI 3.1 description, generated from the handlers' annotations.
//!
//! Only annotated handlers appear; a unit test proves every documented operation is a real route,
//! so the document may be incomplete but never describes something that does not exist.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    api_keys, auth, coupons, gate, health, machine, request_metrics, traffic, users, vip_csv,
    vip_machine, vip_records, vip_sync,
};
use crate::accounts::sessions;

/// The generated document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ParkBridge API",
        description = "Admin API (session cookie) and machine API (`Authorization: Bearer <api key>`) of ParkBridge. Errors are `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        auth::login,
        auth::logout,
        auth::me,
        users::list,
        users::create,
        users::update,
        users::revoke_sessions,
        api_keys::list,
        api_keys::create,
        api_keys::revoke,
        machine::whoami,
        coupons::create_event,
        coupons::create_grant,
        coupons::get_request,
        vip_records::list,
        vip_records::create,
        vip_records::detail,
        vip_records::renew,
        vip_machine::create,
        gate::entry,
        gate::exit,
        traffic::traffic,
        traffic::sessions,
        vip_csv::import,
        vip_csv::export_records,
        vip_csv::export_recharges,
        vip_sync::start,
        vip_sync::resend,
        vip_sync::get,
        openapi_json,
        health::healthz,
        request_metrics::render,
    ),
    modifiers(&SecuritySchemes),
)]
pub(crate) struct ApiDoc;

/// Declares the two ways to authenticate that the operations' `security` names refer to.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(sessions::COOKIE))),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    responses((status = 200, description = "This document", body = serde_json::Value))
)]
pub(crate) async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::routes;

    fn documented() -> Vec<(String, String)> {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("serialisable");
        let paths = doc["paths"].as_object().expect("paths object");
        paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .expect("path item")
                    .keys()
                    .filter(|k| matches!(k.as_str(), "get" | "post" | "put" | "delete" | "patch"))
                    .map(|m| (m.to_uppercase(), path.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn every_documented_operation_is_a_real_route() {
        let table: Vec<(String, String)> = routes::table()
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        for op in documented() {
            // These two live outside the table (see `build_router`).
            let outside = [("GET", "/healthz"), ("GET", "/metrics")]
                .iter()
                .any(|(m, p)| op.0 == *m && op.1 == *p);
            assert!(
                outside || table.contains(&op),
                "{op:?} is documented but not routed"
            );
        }
    }

    #[test]
    fn the_account_key_and_machine_routes_are_documented() {
        let documented = documented();
        for r in routes::table() {
            let ours = [
                "/api/v1/auth/",
                "/api/v1/users",
                "/api/v1/api-keys",
                "/api/v1/machine/",
            ]
            .iter()
            .any(|p| r.path.starts_with(p));
            if ours || r.path == "/api/openapi.json" {
                let op = (r.method.to_string(), r.path.to_owned());
                assert!(
                    documented.contains(&op),
                    "{op:?} is routed but not documented"
                );
            }
        }
    }
}
