//! The browser playground: the GraphiQL page and its vendored assets, built
//! into the binary from `assets/graphiql/` so it works with no internet access.
//! Choosing between the playground and a GET query on `/graphql` lives elsewhere.

use axum::{
    Router,
    extract::Path,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};

/// URL prefix the page loads its assets from; keep in step with `index.html`.
pub const ASSETS_PREFIX: &str = "/graphql/assets";

/// How long browsers may reuse an asset without asking again.
const CACHE_POLICY: &str = "public, max-age=86400";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// One file served under [`ASSETS_PREFIX`].
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Every file the page needs; anything else under the prefix is a 404.
/// Versions and the refresh procedure are in `assets/graphiql/README.md`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: CSS,
        body: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
    Asset {
        name: "playground.css",
        content_type: CSS,
        body: include_bytes!("../../assets/graphiql/playground.css"),
    },
    Asset {
        name: "playground.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../../assets/graphiql/playground.js"),
    },
];

/// The playground page. It talks to `/graphql` over HTTP and to
/// `ws(s)://<host>/graphql/ws` (graphql-transport-ws) for subscriptions,
/// sending the Headers tab as the `connection_init` payload; its sign-in bar
/// puts the signed-in session's token on both unless the Headers tab has one.
const PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// Serves the GraphiQL page, under a policy that lets it load only its own
/// assets and talk only to this server.
pub async fn playground() -> impl IntoResponse {
    ([super::security::playground_policy()], Html(PAGE))
}

/// Routes `GET /graphql/assets/{name}` to the built-in files, with a content
/// type and a one-day public cache; unknown names answer 404.
pub fn asset_router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(&format!("{ASSETS_PREFIX}/{{name}}"), get(serve_asset))
}

async fn serve_asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == name) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, CACHE_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            asset.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_loads_is_served() {
        for src in PAGE.split(&format!("{ASSETS_PREFIX}/")).skip(1) {
            let name = src.split('"').next().unwrap_or_default();

            let served = ASSETS.iter().any(|asset| asset.name == name);

            assert!(served, "index.html loads {name}, which asset_router does not serve");
        }
    }
}
