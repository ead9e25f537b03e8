//! One request, end to end: request id and span, authentication, the policy decision, the
//! operation, the error document, and the audit record when the response body ends.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use tracing::Instrument;

use crate::audit_body::{self, AuditedBody, ByteCount};
use crate::body::{self, ProxyBody};
use crate::error::{Fault, S3Error};
use crate::hooks::{AuditRecord, Decision, RequestContext};
use crate::ops::{self, Call};
use crate::route::{self, Op};
use crate::state::App;

/// Handles one request; never fails at the HTTP level (errors become S3 error documents).
pub async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let request_id = new_request_id();
    let span = tracing::debug_span!("request", id = %request_id, method = %req.method(), op = tracing::field::Empty);
    Ok(run(app, req, request_id).instrument(span).await)
}

async fn run(app: Arc<App>, req: Request<Incoming>, request_id: String) -> Response<ProxyBody> {
    let started = Instant::now();
    let (parts, incoming) = req.into_parts();
    let head = parts.method == http::Method::HEAD;
    let mut ctx = RequestContext {
        request_id: request_id.clone(),
        principal: None,
        op: Op::Forward,
        method: parts.method.to_string(),
        bucket: None,
        key: None,
        labels: Default::default(),
        started: SystemTime::now(),
    };
    let mut decision = Decision::Allow;
    let bytes_in = ByteCount::default();
    let outcome = prepare(&app, parts, incoming, &bytes_in, &mut ctx, &mut decision).await;
    let resource = resource_of(&ctx);
    let (resp, error_code) = match outcome {
        Ok(call) => match ops::dispatch(call).await {
            Ok(resp) => (resp, None),
            Err(e) => error_response(e, &request_id, &resource, head),
        },
        Err(e) => error_response(e, &request_id, &resource, head),
    };
    let record = AuditRecord {
        ctx,
        status: resp.status().as_u16(),
        error_code,
        bytes_in: 0,
        bytes_out: 0,
        decision,
        duration_ms: 0,
    };
    let facts = RequestFacts {
        head,
        started,
        bytes_in,
    };
    finish(&app, resp, record, facts, &request_id)
}

/// Authenticates, classifies and asks the policy; returns the call ready to run.
async fn prepare(
    app: &Arc<App>,
    parts: http::request::Parts,
    incoming: Incoming,
    bytes_in: &ByteCount,
    ctx: &mut RequestContext,
    decision: &mut Decision,
) -> Result<Call, S3Error> {
    let target = route::target(&parts, app.virtual_host_domain.as_deref())?;
    ctx.bucket = target.bucket.clone();
    ctx.key = target.key.clone();
    if target
        .key
        .as_deref()
        .is_some_and(|k| k.starts_with(crate::ops::list::RESERVED_PREFIX))
    {
        return Err(S3Error::new(
            http::StatusCode::FORBIDDEN,
            "AccessDenied",
            "Keys under .cloak/ are reserved for Cloak's own bookkeeping",
        ));
    }
    let verified = crate::auth::verify(&parts, &app.creds, SystemTime::now(), &app.auth)?;
    ctx.principal = Some(verified.principal.clone());
    ctx.op = route::operation(
        &parts.method,
        &target,
        parts.headers.contains_key("x-amz-copy-source"),
    );
    tracing::Span::current().record("op", tracing::field::debug(&ctx.op));

    *decision = app.hooks.policy.decide(ctx);
    if let Decision::Deny { reason } = decision {
        return Err(S3Error::new(
            http::StatusCode::FORBIDDEN,
            "AccessDenied",
            reason.clone(),
        ));
    }
    Ok(Call {
        app: app.clone(),
        parts,
        body: Some(incoming),
        bytes_in: bytes_in.clone(),
        target,
        verified,
        ctx: ctx.clone(),
    })
}

fn error_response(
    e: S3Error,
    request_id: &str,
    resource: &str,
    head: bool,
) -> (Response<ProxyBody>, Option<&'static str>) {
    match e.fault {
        Fault::Internal => tracing::error!(code = e.code, message = %e.message, "request failed"),
        Fault::Upstream | Fault::KeyService => {
            tracing::warn!(code = e.code, message = %e.message, "request failed")
        }
        Fault::Client => tracing::debug!(code = e.code, message = %e.message, "request refused"),
    }
    let code = e.code;
    (e.into_response(request_id, resource, head), Some(code))
}

/// What the audited response body needs to know about its request.
struct RequestFacts {
    /// A HEAD request, whose response carries no body.
    head: bool,
    started: Instant,
    /// The request body bytes the operation reads, counted as it reads them.
    bytes_in: ByteCount,
}

/// Stamps the request id and wraps the body so the audit record is written when it ends.
fn finish(
    app: &Arc<App>,
    resp: Response<ProxyBody>,
    record: AuditRecord,
    facts: RequestFacts,
    request_id: &str,
) -> Response<ProxyBody> {
    let (mut parts, inner) = resp.into_parts();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        parts.headers.insert("x-amz-request-id", v);
    }
    let promised = audit_body::promised_len(facts.head, parts.status, &parts.headers, &inner);
    let sink = app.hooks.audit.clone();
    let audited = AuditedBody::new(inner, promised, record, sink, facts.started, facts.bytes_in);
    Response::from_parts(parts, body::boxed(audited))
}

fn resource_of(ctx: &RequestContext) -> String {
    match (&ctx.bucket, &ctx.key) {
        (Some(b), Some(k)) => format!("/{b}/{k}"),
        (Some(b), None) => format!("/{b}"),
        _ => "/".into(),
    }
}

/// 16 random bytes as upper-case hex, like S3's request ids.
fn new_request_id() -> String {
    let mut raw = [0u8; 8];
    let _ = SystemRandom::new().fill(&mut raw);
    raw.iter().map(|b| format!("{b:02X}")).collect()
}
