//! GetObject and HeadObject: answer from the probe, then stream and decrypt the units that
//! cover the requested range or part (`partNumber`, from the trailer's part table).
//!
//! [`stream_units`] is also the source side of UploadPartCopy.

use cloak_envelope::layout::{resolve_range, Resolved};
use cloak_envelope::{Opener, RangePlan};
use http::{HeaderMap, Response, StatusCode};

use super::decrypt_body::DecryptingBody;
use super::headers;
use super::parts::Parts;
use super::probe::{probe, probe_path, Probed, Sealed};
use super::Call;
use crate::body::{self, ProxyBody};
use crate::conditional::{self, Verdict};
use crate::config::ForeignPolicy;
use crate::error::S3Error;
use crate::hooks::RequestContext;
use crate::state::App;
use crate::upstream::UpstreamRequest;

/// A full GET probes this much of the tail: objects this small are served in one round trip.
const WHOLE_OBJECT_PROBE: u64 = 128 * 1024 + 96;
/// HEAD and ranged GETs probe the trailer only.
const TRAILER_PROBE: u64 = 96;

/// Where a decrypting read fetches its stored bytes, and who it is for.
pub struct ReadFrom<'a> {
    pub app: &'a App,
    /// The object's upstream path, with its version.
    pub path_and_query: String,
    /// `/bucket/key`, naming the object in logs.
    pub label: String,
    /// The request whose inspector sees the plaintext; none when another stage inspects it.
    pub inspect: Option<&'a RequestContext>,
}

/// What a read releases: plaintext bytes `first..=last`, as a 206 when `partial`.
struct Want {
    first: u64,
    last: u64,
    partial: bool,
    /// `x-amz-mp-parts-count`, answered with a `partNumber` read of a multipart object.
    parts_count: Option<u32>,
}

pub async fn get_object(call: Call, head: bool) -> Result<Response<ProxyBody>, S3Error> {
    let ranged = call.parts.headers.contains_key("range") || call.target.has("partNumber");
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
    let from = ReadFrom {
        app: &call.app,
        path_and_query: probe_path(&call),
        label: call.target.resource(),
        inspect: Some(&call.ctx),
    };
    let upstream_etag = headers::get(&up_headers, "etag").map(str::to_owned);
    let want = wanted(&call, &from, &sealed, upstream_etag.as_deref()).await?;
    let mut resp = Response::new(body::empty());
    headers::object_response_headers(&up_headers, resp.headers_mut());
    describe(resp.headers_mut(), &facts.etag, &want, total);
    if want.partial {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    if head || total == 0 {
        return Ok(resp);
    }
    let plan = if want.partial {
        sealed
            .layout
            .plan(want.first, want.last, sealed.stored_len)?
    } else {
        sealed.layout.plan_all(sealed.stored_len)?
    };
    *resp.body_mut() = stream_units(&from, &sealed, &plan, upstream_etag).await?;
    Ok(resp)
}

/// The plaintext a read asks for: a `Range`, a `partNumber`, or the whole object.
async fn wanted(
    call: &Call,
    from: &ReadFrom<'_>,
    sealed: &Sealed,
    pin: Option<&str>,
) -> Result<Want, S3Error> {
    let total = sealed.trailer.plaintext_len;
    let range = headers::get(&call.parts.headers, "range");
    let Some(number) = call.target.param("partNumber") else {
        let (first, last, partial) = match range.map(|r| resolve_range(r, total)) {
            None | Some(Resolved::Full) => (0, total.saturating_sub(1), false),
            Some(Resolved::Partial { first, last }) => (first, last, true),
            Some(Resolved::Unsatisfiable) => return Err(unsatisfiable(total)),
        };
        return Ok(Want {
            first,
            last,
            partial,
            parts_count: None,
        });
    };
    if range.is_some() {
        return Err(S3Error::bad_request(
            "InvalidRequest",
            "Cannot specify both Range header and partNumber query parameter",
        ));
    }
    let ordinal = super::multipart::part::parse_part_number(number)?;
    let parts = Parts::of(&sealed.trailer);
    if ordinal > parts.count() {
        return Err(super::multipart::invalid_part(
            "The requested partnumber is not satisfiable",
        ));
    }
    let spans = super::boundaries::first_parts(from, sealed, pin, ordinal).await?;
    let span = spans.and_then(|s| s.last().copied()).ok_or_else(|| {
        S3Error::not_implemented(
            "A partNumber read this far into a multipart object whose parts differ in size \
             (finding its part boundaries would read too much of it; use a Range instead)",
        )
    })?;
    Ok(Want {
        first: span.first,
        last: (span.first + span.len).saturating_sub(1),
        partial: span.len > 0,
        parts_count: parts.multipart().then_some(parts.count()),
    })
}

/// Streams the planned units, from the probe if it holds them, else from the store.
pub async fn stream_units(
    from: &ReadFrom<'_>,
    sealed: &Sealed,
    plan: &RangePlan,
    upstream_etag: Option<String>,
) -> Result<ProxyBody, S3Error> {
    let (first, last) = (*plan.stored.start(), *plan.stored.end());
    let stored = match sealed.held(first, last) {
        Some(bytes) => body::full(bytes),
        None => fetch(from, first, last, upstream_etag).await?,
    };
    let opener = Opener::new(
        sealed.key.clone(),
        sealed.layout,
        sealed.expect.clone(),
        plan,
    );
    let inspector = from
        .inspect
        .and_then(|ctx| from.app.hooks.inspector.start(ctx));
    Ok(body::boxed(DecryptingBody::new(
        stored,
        opener,
        inspector,
        plan.len,
        from.label.clone(),
    )))
}

/// Fetches stored bytes `first..=last`, pinned to the probed version by its upstream ETag.
pub(super) async fn fetch(
    from: &ReadFrom<'_>,
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
        path_and_query: from.path_and_query.clone(),
        headers: h,
        body: body::empty(),
    };
    let resp = from.app.upstream.call(req).await?;
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

fn describe(h: &mut HeaderMap, etag: &str, want: &Want, total: u64) {
    let (first, last) = (want.first, want.last);
    let len = if total == 0 { 0 } else { last - first + 1 };
    h.insert("content-length", len.into());
    headers::set(h, "etag", etag);
    headers::set(h, "accept-ranges", "bytes");
    if want.partial {
        headers::set(h, "content-range", &format!("bytes {first}-{last}/{total}"));
    }
    if let Some(count) = want.parts_count {
        h.insert("x-amz-mp-parts-count", count.into());
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
pub(super) async fn foreign(call: Call) -> Result<Response<ProxyBody>, S3Error> {
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
