//! The refusals an operation can meet before (or around) its handler — its access rule, the
//! origin check, the body guard, the extractors, an unreachable database — added to every
//! operation of the OpenAPI document from the route table, so that no handler repeats them and
//! none can forget them. A handler documents only the refusals it decides itself.

use axum::http::Method;
use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Ref, Schema};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder};

use super::access::Access;
use super::routes;

/// Adds the shared refusals (status and error `code`s) to every routed operation.
pub(crate) struct SharedRefusals;

impl Modify for SharedRefusals {
    fn modify(&self, openapi: &mut OpenApi) {
        for route in routes::table() {
            let Some(op) = operation_mut(openapi, &route.method, route.path) else {
                // `openapi::tests` proves every route is documented; nothing to add here.
                continue;
            };
            let mallcoo = route.access == Access::MallcooSigned;
            for (status, codes, why) in refusals(&route.method, route.path, route.access, op) {
                add(
                    op,
                    status,
                    &codes,
                    why,
                    mallcoo && status != 403 && status != 503,
                );
            }
        }
    }
}

/// The shared refusals of one operation: status, error codes, and when they happen.
fn refusals(
    method: &Method,
    path: &str,
    access: Access,
    op: &Operation,
) -> Vec<(u16, Vec<&'static str>, &'static str)> {
    let has_body = op.request_body.is_some();
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let changes = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let mut out = Vec::new();

    let mut bad = vec!["nul_character"];
    if access != Access::MallcooSigned {
        if has_params {
            bad.push("invalid_request");
        }
        if has_body {
            bad.extend(["unsupported_media_type", "malformed_json", "invalid_body"]);
        }
    }
    out.push((
        400,
        bad,
        "the request cannot be read: a NUL character anywhere, a path or query value of the wrong type, a body that is not the JSON described",
    ));

    let caller_required = !matches!(access, Access::Public | Access::MallcooSigned);
    if caller_required {
        out.push((
            401,
            vec!["unauthorized"],
            "no valid session cookie or API key, as the operation's security requires",
        ));
    }
    let mut forbidden = Vec::new();
    if matches!(
        access,
        Access::Roles(_) | Access::Machine(_) | Access::Staff | Access::Merchant
    ) {
        forbidden.push("forbidden");
    }
    if changes {
        forbidden.push("cross_origin");
    }
    if !forbidden.is_empty() {
        out.push((
            403,
            forbidden,
            "`forbidden`: the role or the key's scopes do not admit this operation; `cross_origin`: a change sent with the session cookie whose `Origin` (or `Referer`) is not this server",
        ));
    }
    if has_body {
        out.push((408, vec!["body_timeout"], "the body stopped arriving"));
        out.push((413, vec!["payload_too_large"], "the body is over the limit"));
    }
    // Every path parameter names a stored thing (a car park, a user, a key…), looked up first.
    if path.contains('{') && access != Access::MallcooSigned {
        out.push((
            404,
            vec!["not_found"],
            "the path names nothing this caller may see",
        ));
    }
    // Every operation but the document itself reads the database.
    if path != "/api/openapi.json" {
        out.push((
            503,
            vec!["database_unavailable"],
            "the database cannot be reached for now; retry after `Retry-After` seconds",
        ));
    }
    out
}

fn operation_mut<'a>(
    openapi: &'a mut OpenApi,
    method: &Method,
    path: &str,
) -> Option<&'a mut Operation> {
    let item = openapi.paths.paths.get_mut(path)?;
    match *method {
        Method::GET => item.get.as_mut(),
        Method::POST => item.post.as_mut(),
        Method::PUT => item.put.as_mut(),
        Method::DELETE => item.delete.as_mut(),
        Method::PATCH => item.patch.as_mut(),
        _ => None,
    }
}

/// Adds `status` with `codes` to `op`, or names the codes missing from an existing response's
/// description (the handler's own wording stays first).
fn add(op: &mut Operation, status: u16, codes: &[&str], why: &str, mallcoo_body: bool) {
    let key = status.to_string();
    let listed = |codes: &[&str]| {
        codes
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(RefOr::T(existing)) = op.responses.responses.get_mut(&key) {
        let missing: Vec<&str> = codes
            .iter()
            .copied()
            .filter(|c| !existing.description.contains(&format!("`{c}`")))
            .collect();
        if !missing.is_empty() {
            existing.description = format!(
                "{} Also {} ({why}).",
                existing.description.trim_end_matches('.'),
                listed(&missing)
            );
        }
        return;
    }
    let description = if mallcoo_body {
        format!("{why}; Mallcoo's envelope `{{\"resCode\": 1, \"resMsg\": …}}`")
    } else {
        format!("{} ({why})", listed(codes))
    };
    // Mallcoo's replies are described as objects, as its handlers' own responses are.
    let schema: RefOr<Schema> = if mallcoo_body {
        ObjectBuilder::new().build().into()
    } else {
        Ref::from_schema_name("ErrorBody").into()
    };
    let response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new().schema(Some(schema)).build(),
    );
    op.responses
        .responses
        .insert(key, RefOr::T(response.build()));
}
