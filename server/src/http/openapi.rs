//! `GET /api/openapi.json`: the OpenAPI 3.1 description, generated from the handlers' annotations.
//!
//! Unit tests prove the document and the route table agree both ways: every documented operation
//! is a real route, and every route is documented.

use axum::Json;
use protocol::mallcoo::sign;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::openapi_refusals::SharedRefusals;
use super::{
    alert_channels, alert_sends, api_keys, audit_log, auth, coupon_config, coupon_records, coupons,
    credentials, discounts, gate, health, machine, mallcoo_v14, parks, problems, pyun_gateway,
    pyun_uploads, request_metrics, shop_desk, shops, spaces, stays, traffic, users, vip_csv,
    vip_machine, vip_records, vip_sync,
};
use crate::accounts::sessions;

/// The generated document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ParkBridge API",
        description = "Admin API (session cookie), machine API (`Authorization: Bearer <api key>`) and Mallcoo V1.4 car-park interface (signed headers) of ParkBridge. Errors are `{\"error\": {\"code\", \"message\"}}`, except Mallcoo's answers, which are `{\"resCode\", \"resMsg\", …}`. A 400 means the request is not what this document describes (text holding U+0000 anywhere is refused too, `nul_character`); a 422 means it is, but names something that does not exist or that the current state forbids. Integers may be written as whole floats (`2.0`)."
    ),
    paths(
        auth::login,
        auth::logout,
        auth::me,
        users::list,
        users::create,
        users::update,
        users::revoke_sessions,
        parks::list,
        parks::create,
        parks::get,
        parks::update,
        parks::set_tariff,
        credentials::list,
        credentials::create,
        credentials::replace_secret,
        credentials::rotate,
        alert_channels::list,
        alert_channels::create,
        alert_channels::update,
        alert_channels::delete,
        alert_channels::test,
        alert_sends::recent_sends,
        problems::list,
        audit_log::list,
        api_keys::list,
        api_keys::create,
        api_keys::revoke,
        machine::whoami,
        coupons::create_event,
        coupons::create_grant,
        coupons::get_request,
        coupon_records::list,
        coupon_records::grant,
        coupon_records::reconcile,
        coupon_config::get,
        coupon_config::set_event,
        coupon_config::create_product,
        coupon_config::update_product,
        coupon_config::archive_product,
        vip_records::list,
        vip_records::create,
        vip_records::detail,
        vip_records::renew,
        vip_machine::create,
        gate::entry,
        gate::exit,
        spaces::spaces,
        mallcoo_v14::get_parking_payment_info,
        mallcoo_v14::pay_parking_fee,
        mallcoo_v14::get_traffic,
        pyun_gateway::gateway,
        pyun_gateway::calls,
        pyun_uploads::resend,
        traffic::traffic,
        traffic::sessions,
        stays::detail,
        stays::waive,
        discounts::grant,
        discounts::revoke,
        vip_csv::import,
        vip_csv::export_records,
        vip_csv::export_recharges,
        vip_sync::start,
        vip_sync::resend,
        vip_sync::get,
        shops::create_shop,
        shops::list_shops,
        shops::update_shop,
        shops::create_offer,
        shops::list_offers,
        shops::update_offer,
        shops::statement_json,
        shops::statement_csv,
        shop_desk::page,
        shop_desk::validate_plate,
        shop_desk::history,
        shop_desk::qr_token,
        openapi_json,
        health::healthz,
        request_metrics::render,
    ),
    modifiers(&SecuritySchemes, &SharedRefusals),
)]
pub(crate) struct ApiDoc;

/// The signed headers of a Mallcoo V1.4 call (PROTOCOLS.md §2.1, §2.6): scheme name, header,
/// description.
const MALLCOO_HEADERS: [(&str, &str, &str); 4] = [
    (
        "mallcoo_app_id",
        sign::HEADER_APP_ID,
        "The `AppID` of the inbound key pair ParkBridge issued for the car park (a `mallcoo_inbound` credential).",
    ),
    (
        "mallcoo_public_key",
        sign::HEADER_PUBLIC_KEY,
        "The `PublicKey` of that key pair.",
    ),
    (
        "mallcoo_timestamp",
        sign::HEADER_TIMESTAMP,
        "`yyyyMMddHHmmss` in Asia/Shanghai time; more than 5 minutes from the server's clock is refused (401).",
    ),
    (
        "mallcoo_sign",
        sign::HEADER_SIGN,
        "The middle 16 hex digits, upper case, of MD5(`{publicKey:` PublicKey `,timeStamp:` TimeStamp `,data:` body `,privateKey:` PrivateKey `}`), where body is the exact request body (PROTOCOLS.md §2.6).",
    ),
];

/// Declares the ways to authenticate that the operations' `security` names refer to: the
/// session cookie, machine API keys, and Mallcoo's four signed headers.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                sessions::COOKIE,
                "The session cookie `POST /api/v1/auth/login` sets (`HttpOnly; SameSite=Strict`). A change (POST, PUT, DELETE) sent with it must carry an `Origin` (or, failing that, `Referer`) naming this server's own origin, or none at all; another origin is refused with 403 `cross_origin`.",
            ))),
        );
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "A machine client's API key (`pbk_…`, created by an admin or `parkbridge apikey create`): `Authorization: Bearer <key>`. Its scopes (`gate`, `coupons`, `vip`) and car park decide what it may call (403 `forbidden` otherwise)."
                .to_owned(),
        );
        components.add_security_scheme("api_key", SecurityScheme::Http(bearer));
        // A Mallcoo V1.4 call carries four headers together; its operations require all four in
        // one security requirement.
        for (name, header, description) in MALLCOO_HEADERS {
            components.add_security_scheme(
                name,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    header,
                    description,
                ))),
            );
        }
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
    fn every_route_is_documented() {
        let documented = documented();
        for r in routes::table() {
            let op = (r.method.to_string(), r.path.to_owned());
            assert!(
                documented.contains(&op),
                "{op:?} is routed but not documented"
            );
        }
    }

    #[test]
    fn every_security_requirement_names_a_declared_scheme() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("serialisable");
        let schemes = doc["components"]["securitySchemes"]
            .as_object()
            .expect("security schemes");
        for (path, item) in doc["paths"].as_object().expect("paths object") {
            for (method, op) in item.as_object().expect("path item") {
                for requirement in op["security"].as_array().into_iter().flatten() {
                    for name in requirement.as_object().expect("requirement").keys() {
                        assert!(
                            schemes.contains_key(name),
                            "{method} {path} names undeclared scheme {name}"
                        );
                    }
                }
            }
        }
    }

    fn operations() -> Vec<(String, String, serde_json::Value)> {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("serialisable");
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths object") {
            for (method, op) in item.as_object().expect("path item") {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
        out
    }

    #[test]
    fn path_parameters_are_in_the_path_and_query_parameters_are_not() {
        for (method, path, op) in operations() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().expect("a named parameter");
                let in_template = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    p["in"] == "path",
                    in_template,
                    "{method} {path}: parameter {name} is declared in {}",
                    p["in"]
                );
            }
        }
    }

    #[test]
    fn every_operation_states_its_refusals_with_the_error_envelope() {
        for (method, path, op) in operations() {
            let responses = op["responses"].as_object().expect("responses");
            let secured = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r.get("session").is_some() || r.get("api_key").is_some());
            if secured {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} lists no 401"
                );
            }
            if path.starts_with("/api/v1/") {
                let bad = &responses
                    .get("400")
                    .unwrap_or_else(|| panic!("{method} {path} lists no 400"));
                assert_eq!(
                    bad["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path}: its 400 is not the error envelope"
                );
            }
            if path.contains('{') && !path.starts_with("/mallcoo/") {
                assert!(
                    responses.contains_key("404"),
                    "{method} {path} lists no 404"
                );
            }
        }
    }
}
