//! The HTTP surface: one router assembled from one module per feature, plus the built frontend.

mod health;

use std::path::Path;

use axum::Router;
use axum::routing::{any, get};
use sqlx::SqlitePool;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: SqlitePool,
}

/// Builds the whole application; `static_dir` holds Trunk's `dist` output.
pub fn build_router(state: AppState, static_dir: &Path) -> Router {
    // The single-page app owns every path that is not an API: unknown paths get index.html so
    // that a reload on a client-side route works.
    let frontend =
        ServeDir::new(static_dir).fallback(ServeFile::new(static_dir.join("index.html")));
    Router::new()
        .route("/healthz", get(health::healthz))
        // An unknown API path is a JSON 404, never the HTML page.
        .route("/api/{*rest}", any(|| async { ApiError::NotFound }))
        .with_state(state)
        .fallback_service(frontend)
        .layer(TraceLayer::new_for_http())
}
