//! S3 errors: one type for every failure a client can see, and the one place that turns it
//! into S3's XML error document.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use thiserror::Error;

use crate::body::{self, ProxyBody};

/// Whose fault a failure is. Decides the log level: the proxy's own faults are errors,
/// upstream and key-service trouble are warnings, client mistakes are debug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Client,
    Upstream,
    KeyService,
    Internal,
}

/// An error answered to the client as S3 XML.
#[derive(Debug, Error, Clone)]
#[error("{code}: {message}")]
pub struct S3Error {
    pub code: &'static str,
    pub message: String,
    pub status: StatusCode,
    pub fault: Fault,
    /// Extra headers, e.g. `Content-Range: bytes */N` on 416.
    pub headers: Vec<(&'static str, String)>,
}

impl S3Error {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status,
            fault: Fault::Client,
            headers: Vec::new(),
        }
    }

    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    pub fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
            .fault(Fault::Internal)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("{what} is not supported through Cloak"),
        )
    }

    /// The store failed or answered something unusable. S3 has no 502 code; clients retry
    /// `503 ServiceUnavailable`, which is what S3 itself answers when it cannot serve.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            message,
        )
        .fault(Fault::Upstream)
    }

    /// A transient conflict at the store (a source replaced mid-copy): retry.
    pub fn slow_down(message: impl Into<String>) -> Self {
        Self::upstream(message)
    }

    /// The S3 error document, with the request id in the body and in `x-amz-request-id`.
    pub fn into_response(
        self,
        request_id: &str,
        resource: &str,
        head: bool,
    ) -> Response<ProxyBody> {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
             <Resource>{}</Resource><RequestId>{}</RequestId></Error>",
            self.code,
            escape(&self.message),
            escape(resource),
            escape(request_id),
        );
        let len = xml.len();
        // HEAD responses carry no body, but keep the status and headers.
        let body = if head {
            body::empty()
        } else {
            body::full(Bytes::from(xml))
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = self.status;
        let h = resp.headers_mut();
        h.insert("content-type", HeaderValue::from_static("application/xml"));
        if !head {
            h.insert("content-length", HeaderValue::from(len));
        }
        if let Ok(v) = HeaderValue::from_str(request_id) {
            h.insert("x-amz-request-id", v);
        }
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
        resp
    }
}

/// Escapes text for XML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

mod from;
