//! The HTTP surface: one router assembled from the route table, plus the built frontend.

pub mod access;
mod audit_log;
mod auth;
mod credentials;
mod health;
pub mod json;
mod parks;
pub mod routes;
mod users;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::secrets::SecretBox;
use crate::storage::Db;

/// Settings handlers read, fixed at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a sign-in lasts.
    pub session_ttl: chrono::TimeDelta,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_ttl: chrono::TimeDelta::hours(12),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Start-up settings.
    pub settings: Arc<Settings>,
    /// Seals and opens stored secrets with the master key.
    pub secrets: Arc<SecretBox>,
}

/// Builds the whole application; `static_dir` holds Trunk's `dist` output.
pub fn build_router(state: AppState, static_dir: &Path) -> Router {
    // The single-page app owns every path that is not an API: unknown paths get index.html so
    // that a reload on a client-side route works.
    let frontend =
        ServeDir::new(static_dir).fallback(ServeFile::new(static_dir.join("index.html")));
    let mut api = Router::new();
    for r in routes::table() {
        let guard =
            axum::middleware::from_fn_with_state((state.clone(), r.access), access::enforce);
        api = api.route(r.path, r.handler.route_layer(guard));
    }
    api.route("/healthz", get(health::healthz))
        // An unknown API path is a JSON 404, never the HTML page.
        .route("/api/{*rest}", any(|| async { ApiError::NotFound }))
        .with_state(state)
        .fallback_service(frontend)
        .layer(TraceLayer::new_for_http())
}
