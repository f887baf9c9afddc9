//! Content negotiation for GraphQL responses, as the GraphQL-over-HTTP
//! specification gives it: `application/graphql-response+json` when the client
//! accepts it, `application/json` when it accepts only that, `*/*`, or says
//! nothing (the legacy type older clients expect). The two differ in status
//! codes: see [`MediaType::status_when_refused`].

use axum::http::{HeaderMap, StatusCode, header};

/// How a GraphQL response is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: the status tells whether the request ran.
    GraphQLResponse,
    /// `application/json`: 200 for every well-formed request, errors in the body.
    Json,
}

impl MediaType {
    /// The type to answer with, from the request's `Accept` headers; `None`
    /// when the client accepts neither (answered 406).
    pub fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
        let ranges: Vec<(String, bool)> = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(media_range)
            .collect();
        if ranges.is_empty() {
            return Some(MediaType::Json);
        }
        let mut best = None;
        for (range, _) in ranges.iter().filter(|(_, accepted)| *accepted) {
            match range.as_str() {
                "application/graphql-response+json" => return Some(MediaType::GraphQLResponse),
                "application/json" | "application/*" | "*/*" => best = Some(MediaType::Json),
                _ => {}
            }
        }
        best
    }

    /// The `Content-Type` header value.
    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }

    /// The status of a well-formed request whose document never ran (a syntax or
    /// validation error, variables of the wrong type, an unknown operation, a
    /// document over the limits): 400 for `application/graphql-response+json`,
    /// 200 for `application/json`, whose clients read errors from the body.
    pub fn status_when_refused(self) -> StatusCode {
        match self {
            MediaType::GraphQLResponse => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        }
    }
}

/// One media range of an `Accept` header, lower-cased, and whether it is
/// accepted (a `q` of 0 refuses it).
fn media_range(item: &str) -> Option<(String, bool)> {
    let mut parts = item.split(';');
    let range = parts.next()?.trim().to_ascii_lowercase();
    if range.is_empty() {
        return None;
    }
    let refused = parts.any(|parameter| {
        parameter
            .split_once('=')
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, value)| value.trim().parse::<f32>().ok())
            .is_some_and(|q| q <= 0.0)
    });
    Some((range, !refused))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accepting(value: Option<&str>) -> Option<MediaType> {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        MediaType::negotiate(&headers)
    }

    #[test]
    fn the_graphql_response_type_wins_when_accepted() {
        assert_eq!(accepting(None), Some(MediaType::Json));
        assert_eq!(accepting(Some("*/*")), Some(MediaType::Json));
        assert_eq!(accepting(Some("application/json")), Some(MediaType::Json));
        assert_eq!(
            accepting(Some("application/graphql-response+json, application/json;q=0.9")),
            Some(MediaType::GraphQLResponse)
        );
        assert_eq!(
            accepting(Some("application/json, application/graphql-response+json;q=0")),
            Some(MediaType::Json)
        );
        assert_eq!(
            accepting(Some("Application/JSON; charset=utf-8")),
            Some(MediaType::Json)
        );
        assert_eq!(accepting(Some("text/plain")), None);
        assert_eq!(accepting(Some("application/json;q=0")), None);
        assert_eq!(accepting(Some(" , ")), Some(MediaType::Json));
    }
}
