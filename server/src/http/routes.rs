//! The route table: every API route with its method, path and access rule, in one list.
//!
//! The router is built from this table only, so a route cannot exist without an access rule,
//! and the access test walks the same table.

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, post, put};

use super::access::Access;
use super::{
    AppState, alert_channels, alert_sends, api_keys, audit_log, auth, coupon_config,
    coupon_records, coupons, credentials, discounts, gate, machine, mallcoo_v14, openapi, parks,
    problems, pyun_gateway, pyun_uploads, shop_desk, shops, spaces, stays, traffic, users, vip_csv,
    vip_machine, vip_records, vip_sync,
};
use crate::accounts::Role;
use crate::api_keys::Scope;

/// One API route.
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path in axum syntax (`/api/v1/users/{id}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        access,
        handler,
    }
}

/// Every API route.
pub fn table() -> Vec<Route> {
    use Access::{AnyMachine, Merchant, Public, SignedIn, Staff};
    const ADMIN: Access = Access::ADMIN;
    const MANAGER: Access = Access::Roles(&[Role::PropertyManager]);
    const COUPONS: Access = Access::Machine(Scope::Coupons);
    // The mall's read-only views of a car park's parking; the handler checks the car park.
    const PARK_READERS: Access = Access::Roles(&[Role::PropertyManager, Role::MallStaff]);
    vec![
        route(
            Method::POST,
            "/api/v1/auth/login",
            Public,
            post(auth::login),
        ),
        route(
            Method::POST,
            "/api/v1/auth/logout",
            SignedIn,
            post(auth::logout),
        ),
        route(Method::GET, "/api/v1/auth/me", SignedIn, get(auth::me)),
        route(Method::GET, "/api/v1/users", ADMIN, get(users::list)),
        route(Method::POST, "/api/v1/users", ADMIN, post(users::create)),
        route(Method::PUT, "/api/v1/users/{id}", ADMIN, put(users::update)),
        route(
            Method::DELETE,
            "/api/v1/users/{id}/sessions",
            ADMIN,
            delete(users::revoke_sessions),
        ),
        route(Method::GET, "/api/v1/parks", Staff, get(parks::list)),
        route(Method::POST, "/api/v1/parks", ADMIN, post(parks::create)),
        route(Method::GET, "/api/v1/parks/{id}", Staff, get(parks::get)),
        route(Method::PUT, "/api/v1/parks/{id}", ADMIN, put(parks::update)),
        route(
            Method::PUT,
            "/api/v1/parks/{id}/tariff",
            Access::Roles(&[Role::PropertyManager]),
            put(parks::set_tariff),
        ),
        route(
            Method::GET,
            "/api/v1/credentials",
            ADMIN,
            get(credentials::list),
        ),
        route(
            Method::POST,
            "/api/v1/credentials",
            ADMIN,
            post(credentials::create),
        ),
        route(
            Method::PUT,
            "/api/v1/credentials/{id}/secret",
            ADMIN,
            put(credentials::replace_secret),
        ),
        route(
            Method::POST,
            "/api/v1/credentials/{id}/rotate",
            ADMIN,
            post(credentials::rotate),
        ),
        route(
            Method::GET,
            "/api/v1/alert-channels",
            ADMIN,
            get(alert_channels::list),
        ),
        route(
            Method::POST,
            "/api/v1/alert-channels",
            ADMIN,
            post(alert_channels::create),
        ),
        route(
            Method::PUT,
            "/api/v1/alert-channels/{id}",
            ADMIN,
            put(alert_channels::update),
        ),
        route(
            Method::DELETE,
            "/api/v1/alert-channels/{id}",
            ADMIN,
            delete(alert_channels::delete),
        ),
        route(
            Method::POST,
            "/api/v1/alert-channels/{id}/test",
            ADMIN,
            post(alert_channels::test),
        ),
        route(
            Method::GET,
            "/api/v1/alert-channels/{id}/sends",
            ADMIN,
            get(alert_sends::recent_sends),
        ),
        route(
            Method::GET,
            "/api/v1/problems",
            MANAGER,
            get(problems::list),
        ),
        route(Method::GET, "/api/v1/audit", ADMIN, get(audit_log::list)),
        route(Method::GET, "/api/v1/api-keys", ADMIN, get(api_keys::list)),
        route(
            Method::POST,
            "/api/v1/api-keys",
            ADMIN,
            post(api_keys::create),
        ),
        route(
            Method::DELETE,
            "/api/v1/api-keys/{id}",
            ADMIN,
            delete(api_keys::revoke),
        ),
        route(
            Method::GET,
            "/api/v1/machine/whoami",
            AnyMachine,
            get(machine::whoami),
        ),
        route(
            Method::POST,
            "/api/v1/coupons/events",
            COUPONS,
            post(coupons::create_event),
        ),
        route(
            Method::POST,
            "/api/v1/coupons/grants",
            COUPONS,
            post(coupons::create_grant),
        ),
        route(
            Method::GET,
            "/api/v1/coupons/requests/{id}",
            COUPONS,
            get(coupons::get_request),
        ),
        route(
            Method::GET,
            "/api/v1/coupon-records",
            MANAGER,
            get(coupon_records::list),
        ),
        route(
            Method::POST,
            "/api/v1/coupon-records/grants",
            MANAGER,
            post(coupon_records::grant),
        ),
        route(
            Method::POST,
            "/api/v1/coupon-records/{id}/reconcile",
            MANAGER,
            post(coupon_records::reconcile),
        ),
        route(
            Method::GET,
            "/api/v1/parks/{id}/coupon-config",
            Staff,
            get(coupon_config::get),
        ),
        route(
            Method::PUT,
            "/api/v1/parks/{id}/coupon-config/event",
            ADMIN,
            put(coupon_config::set_event),
        ),
        route(
            Method::POST,
            "/api/v1/parks/{id}/coupon-products",
            ADMIN,
            post(coupon_config::create_product),
        ),
        route(
            Method::PUT,
            "/api/v1/parks/{id}/coupon-products/{pid}",
            ADMIN,
            put(coupon_config::update_product),
        ),
        route(
            Method::DELETE,
            "/api/v1/parks/{id}/coupon-products/{pid}",
            ADMIN,
            delete(coupon_config::archive_product),
        ),
        route(
            Method::POST,
            "/api/v1/parks/{id}/vip-sync",
            ADMIN,
            post(vip_sync::start),
        ),
        route(
            Method::POST,
            "/api/v1/parks/{id}/vip-sync/resend",
            ADMIN,
            post(vip_sync::resend),
        ),
        route(
            Method::GET,
            "/api/v1/vip-sync/{park}",
            MANAGER,
            get(vip_sync::get),
        ),
        route(
            Method::GET,
            "/api/v1/parks/{id}/vip/records",
            MANAGER,
            get(vip_records::list),
        ),
        route(
            Method::POST,
            "/api/v1/parks/{id}/vip/records",
            MANAGER,
            post(vip_records::create),
        ),
        route(
            Method::GET,
            "/api/v1/vip/records/{rid}",
            MANAGER,
            get(vip_records::detail),
        ),
        route(
            Method::POST,
            "/api/v1/vip/records/{rid}/recharges",
            MANAGER,
            post(vip_records::renew),
        ),
        route(
            Method::POST,
            "/api/v1/parks/{id}/vip/import",
            MANAGER,
            // The one route whose body may exceed the global 1 MiB: a 100k-row file.
            post(vip_csv::import).layer(DefaultBodyLimit::max(vip_csv::IMPORT_BODY_LIMIT)),
        ),
        route(
            Method::GET,
            "/api/v1/parks/{id}/vip/export/records.csv",
            MANAGER,
            get(vip_csv::export_records),
        ),
        route(
            Method::GET,
            "/api/v1/parks/{id}/vip/export/recharges.csv",
            MANAGER,
            get(vip_csv::export_recharges),
        ),
        route(
            Method::POST,
            "/api/v1/vip/recharges",
            Access::Machine(Scope::Vip),
            post(vip_machine::create),
        ),
        route(
            Method::POST,
            "/api/v1/gate/entries",
            Access::Machine(Scope::Gate),
            post(gate::entry),
        ),
        route(
            Method::POST,
            "/api/v1/gate/exits",
            Access::Machine(Scope::Gate),
            post(gate::exit),
        ),
        route(
            Method::GET,
            "/api/v1/parks/{code}/spaces",
            Access::Machine(Scope::Gate),
            get(spaces::spaces),
        ),
        route(
            Method::POST,
            pyun_gateway::GATEWAY_PATH,
            // Signed by P云 with the car park's key, checked on the raw body by the handler.
            Public,
            post(pyun_gateway::gateway),
        ),
        route(
            Method::GET,
            "/api/v1/parks/{id}/pyun-gateway",
            ADMIN,
            get(pyun_gateway::calls),
        ),
        route(
            Method::POST,
            "/api/v1/parks/{id}/pyun-uploads/resend",
            ADMIN,
            post(pyun_uploads::resend),
        ),
        route(
            Method::POST,
            "/mallcoo/v1/GetParkingPaymentInfo",
            Access::MallcooSigned,
            post(mallcoo_v14::get_parking_payment_info),
        ),
        route(
            Method::POST,
            "/mallcoo/v1/PayParkingFee",
            Access::MallcooSigned,
            post(mallcoo_v14::pay_parking_fee),
        ),
        route(
            Method::POST,
            "/mallcoo/v1/GetTraffic",
            Access::MallcooSigned,
            post(mallcoo_v14::get_traffic),
        ),
        route(
            Method::GET,
            "/api/v1/parks/{id}/traffic",
            PARK_READERS,
            get(traffic::traffic),
        ),
        route(
            Method::GET,
            "/api/v1/parks/{id}/sessions",
            PARK_READERS,
            get(traffic::sessions),
        ),
        route(
            Method::GET,
            "/api/v1/sessions/{id}",
            PARK_READERS,
            get(stays::detail),
        ),
        route(
            Method::POST,
            "/api/v1/sessions/{id}/waivers",
            MANAGER,
            post(stays::waive),
        ),
        route(
            Method::POST,
            "/api/v1/sessions/discounts",
            Access::Machine(Scope::Discounts),
            post(discounts::grant),
        ),
        route(
            Method::DELETE,
            "/api/v1/sessions/discounts/{park}/{discount_id}",
            Access::Machine(Scope::Discounts),
            delete(discounts::revoke),
        ),
        route(
            Method::POST,
            "/api/v1/parks/{id}/shops",
            MANAGER,
            post(shops::create_shop),
        ),
        route(
            Method::GET,
            "/api/v1/parks/{id}/shops",
            MANAGER,
            get(shops::list_shops),
        ),
        route(
            Method::PUT,
            "/api/v1/shops/{id}",
            MANAGER,
            put(shops::update_shop),
        ),
        route(
            Method::POST,
            "/api/v1/shops/{id}/offers",
            MANAGER,
            post(shops::create_offer),
        ),
        route(
            Method::GET,
            "/api/v1/shops/{id}/offers",
            MANAGER,
            get(shops::list_offers),
        ),
        route(
            Method::PUT,
            "/api/v1/offers/{id}",
            MANAGER,
            put(shops::update_offer),
        ),
        route(
            Method::GET,
            "/api/v1/shops/{id}/statement",
            MANAGER,
            get(shops::statement_json),
        ),
        route(
            Method::GET,
            "/api/v1/shops/{id}/statement.csv",
            MANAGER,
            get(shops::statement_csv),
        ),
        route(Method::GET, "/api/v1/shop", Merchant, get(shop_desk::page)),
        route(
            Method::POST,
            "/api/v1/shop/validations",
            Merchant,
            post(shop_desk::validate_plate),
        ),
        route(
            Method::GET,
            "/api/v1/shop/validations",
            Merchant,
            get(shop_desk::history),
        ),
        route(
            Method::POST,
            "/api/v1/shop/qr-tokens",
            Merchant,
            post(shop_desk::qr_token),
        ),
        route(
            Method::GET,
            "/api/openapi.json",
            Public,
            get(openapi::openapi_json),
        ),
    ]
}
