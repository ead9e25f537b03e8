//! Raw HTTP to the proxy: a hyper client, request bodies of known or unknown length, and the
//! whole reply with a few readers for S3's error document.

use std::io;

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderMap, Request, StatusCode};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub type Body = BoxBody<Bytes, io::Error>;

/// Everything that came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A response header as text, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The text of the first `<tag>` element of the body, if any.
    pub fn xml(&self, tag: &str) -> Option<String> {
        xml_value(&self.text(), tag)
    }

    /// The S3 error code of the body.
    pub fn code(&self) -> String {
        self.xml("Code").unwrap_or_default()
    }
}

/// The text of the first `<tag>` element in `xml`.
pub fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}

/// A body whose length hyper knows, so it sends `Content-Length`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A body of unknown length, which hyper sends with `Transfer-Encoding: chunked`, one HTTP
/// chunk per piece.
pub fn streamed(pieces: Vec<Bytes>) -> Body {
    let frames = pieces
        .into_iter()
        .map(|p| Ok::<_, io::Error>(Frame::data(p)));
    StreamBody::new(stream::iter(frames)).boxed()
}

/// Sends one request on a fresh client, so no test shares a connection with another.
pub async fn send(request: Request<Body>) -> Reply {
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.expect("the proxy answers");
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .expect("the whole reply body")
        .to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
