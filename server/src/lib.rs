//! ParkBridge server: holds the secrets, signs outgoing calls, and serves the Mallcoo, machine and
//! admin APIs plus the built frontend.

pub mod accounts;
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod cli;
pub mod coupons;
pub mod credentials;
pub mod discounts;
pub mod error;
pub mod hot_lookups;
pub mod http;
pub mod mallcoo_api;
pub mod mallcoo_out;
pub mod outbox;
pub mod parking;
pub mod parks;
pub mod pyun_client;
pub mod pyun_gateway;
pub mod pyun_upload;
pub mod secrets;
pub mod shops;
pub mod storage;
pub mod telemetry;
pub mod tokens;
pub mod vip;
