//! GetObject and HeadObject: answer from the probe, then stream and decrypt the units that
//! cover the requested range.

use cloak_envelope::layout::{resolve_range, Resolved};
use cloak_envelope::{Opener, RangePlan};
use http::{HeaderMap, Response, StatusCode};

use super::decrypt_body::DecryptingBody;
use super::headers;
use super::probe::{probe, probe_path, Probed, Sealed};
use super::Call;
use crate::body::{self, ProxyBody};
use crate::conditional::{self, Verdict};
use crate::config::ForeignPolicy;
use crate::error::S3Error;
use crate::upstream::UpstreamRequest;

/// A full GET probes this much of the tail: objects this small are served in one round trip.
const WHOLE_OBJECT_PROBE: u64 = 128 * 1024 + 96;
/// HEAD and ranged GETs probe the trailer only.
const TRAILER_PROBE: u64 = 96;

pub async fn get_object(call: Call, head: bool) -> Result<Response<ProxyBody>, S3Error> {
    let ranged = call.parts.headers.contains_key("range");
    let suffix = if head || ranged {
        TRAILER_PROBE
    } else {
        WHOLE_OBJECT_PROBE
    };
    let (sealed, up_headers) = match probe(&call, suffix).await? {
        Probed::Sealed(s, h) => (s, h),
        Probed::Failed(resp) => return Ok(super::forward::relay(resp)),
        Probed::Foreign(_) => return foreign(call).await,
    };
    let facts = sealed.facts();
    if let Some(etag) = headers::get(&up_headers, "etag") {
        call.app
            .remember(call.bucket(), call.key(), etag, facts.clone())
            .await;
    }

    let last_modified = headers::get(&up_headers, "last-modified").map(str::to_owned);
    match conditional::evaluate(&call.parts.headers, &facts.etag, last_modified.as_deref()) {
        Verdict::Proceed => {}
        Verdict::NotModified => return Ok(not_modified(&facts.etag, &up_headers)),
        Verdict::Failed => return Err(conditional::precondition_failed()),
    }

    let total = facts.plain_len;
    let range = headers::get(&call.parts.headers, "range").map(|r| resolve_range(r, total));
    let (first, last, partial) = match range {
        None | Some(Resolved::Full) => (0, total.saturating_sub(1), false),
        Some(Resolved::Partial { first, last }) => (first, last, true),
        Some(Resolved::Unsatisfiable) => return Err(unsatisfiable(total)),
    };

    let mut resp = Response::new(body::empty());
    headers::object_response_headers(&up_headers, resp.headers_mut());
    describe(resp.headers_mut(), &facts.etag, first, last, total, partial);
    if partial {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    if head || total == 0 {
        return Ok(resp);
    }
    let plan = if partial {
        sealed.layout.plan(first, last, sealed.stored_len)?
    } else {
        sealed.layout.plan_all(sealed.stored_len)?
    };
    let upstream_etag = headers::get(&up_headers, "etag").map(str::to_owned);
    *resp.body_mut() = stream_units(&call, &sealed, &plan, upstream_etag).await?;
    Ok(resp)
}

/// Streams the planned units, from the probe if it holds them, else from the store.
async fn stream_units(
    call: &Call,
    sealed: &Sealed,
    plan: &RangePlan,
    upstream_etag: Option<String>,
) -> Result<ProxyBody, S3Error> {
    let (first, last) = (*plan.stored.start(), *plan.stored.end());
    let stored = match sealed.held(first, last) {
        Some(bytes) => body::full(bytes),
        None => fetch(call, first, last, upstream_etag).await?,
    };
    let opener = Opener::new(
        sealed.key.clone(),
        sealed.layout,
        sealed.expect.clone(),
        plan,
    );
    let inspector = call.app.hooks.inspector.start(&call.ctx);
    let label = call.target.resource();
    Ok(body::boxed(DecryptingBody::new(
        stored, opener, inspector, plan.len, label,
    )))
}

/// Fetches stored bytes `first..=last`, pinned to the probed version by its upstream ETag.
async fn fetch(
    call: &Call,
    first: u64,
    last: u64,
    etag: Option<String>,
) -> Result<ProxyBody, S3Error> {
    let mut h = HeaderMap::new();
    headers::set(&mut h, "range", &format!("bytes={first}-{last}"));
    if let Some(etag) = etag {
        headers::set(&mut h, "if-match", &etag);
    }
    let req = UpstreamRequest {
        method: http::Method::GET,
        path_and_query: probe_path(call),
        headers: h,
        body: body::empty(),
    };
    let resp = call.app.upstream.call(req).await?;
    if resp.status() == StatusCode::PRECONDITION_FAILED {
        return Err(S3Error::slow_down(
            "The object changed while it was being read; retry",
        ));
    }
    if !resp.status().is_success() {
        return Err(S3Error::upstream(format!(
            "The store answered {} to a ranged read",
            resp.status()
        )));
    }
    Ok(body::boxed(resp.into_body()))
}

fn describe(h: &mut HeaderMap, etag: &str, first: u64, last: u64, total: u64, partial: bool) {
    let len = if total == 0 { 0 } else { last - first + 1 };
    h.insert("content-length", len.into());
    headers::set(h, "etag", etag);
    headers::set(h, "accept-ranges", "bytes");
    if partial {
        headers::set(h, "content-range", &format!("bytes {first}-{last}/{total}"));
    }
}

fn not_modified(etag: &str, up: &HeaderMap) -> Response<ProxyBody> {
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = StatusCode::NOT_MODIFIED;
    headers::set(resp.headers_mut(), "etag", etag);
    if let Some(lm) = up.get("last-modified") {
        resp.headers_mut().insert("last-modified", lm.clone());
    }
    resp
}

fn unsatisfiable(total: u64) -> S3Error {
    S3Error::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "InvalidRange",
        "The requested range is not satisfiable",
    )
    .header("content-range", format!("bytes */{total}"))
}

/// An object Cloak did not write: refused, or served as stored when configured so.
async fn foreign(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    if call.app.foreign == ForeignPolicy::Refuse {
        return Err(S3Error::new(
            StatusCode::FORBIDDEN,
            "InvalidObjectState",
            "This object was not written through Cloak (it has no envelope header), so it is \
             refused. Set objects.foreign = \"passthrough\" to serve such objects as stored.",
        ));
    }
    tracing::warn!(object = %call.target.resource(), "serving a foreign (unencrypted) object as stored");
    super::forward::forward(call).await
}
