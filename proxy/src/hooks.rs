//! The seams later features plug into: policy, content inspection and audit.
//!
//! Every request carries a [`RequestContext`]. Before any object bytes move, the [`Policy`]
//! decides; while plaintext streams (in on PUT, out on GET) an [`Inspector`] sees every byte
//! and may add labels; when the request ends, one [`AuditRecord`] goes to the [`AuditSink`].
//! The defaults allow everything, inspect nothing and log audit records to the `cloak::audit`
//! tracing target. None of them keeps state between requests, so replicas stay interchangeable.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use crate::auth::Principal;
use crate::route::Op;

/// Labels attached to an object (classification and the like).
pub type Labels = BTreeMap<String, String>;

/// What is known about a request as it flows through the proxy.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub principal: Option<Principal>,
    pub op: Op,
    pub method: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The object's labels, as far as they are known at this point.
    pub labels: Labels,
    pub started: SystemTime,
}

/// The decision point's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny { reason: String },
}

/// Decides whether a request may proceed, before any object bytes move.
pub trait Policy: Send + Sync {
    fn decide(&self, ctx: &RequestContext) -> Decision;
}

/// Sees plaintext as it streams through one request.
pub trait PlaintextInspector: Send + Sync {
    fn inspect(&mut self, chunk: &[u8]);
    /// Called once at the end of the stream; returns labels learned from the content.
    fn finish(&mut self) -> Labels;
}

/// Creates an inspector per request, or none.
pub trait Inspector: Send + Sync {
    fn start(&self, ctx: &RequestContext) -> Option<Box<dyn PlaintextInspector>>;
}

/// One record per request, written when it ends.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    pub ctx: RequestContext,
    pub status: u16,
    /// The S3 error code answered, or `ResponseAborted` for a response body that failed or
    /// was dropped before all it promised was sent.
    pub error_code: Option<&'static str>,
    /// The request body's payload bytes, counted as the operation read them: for an
    /// aws-chunked upload the decoded payload, without chunk framing, signatures or trailer.
    /// A body the operation never read counts 0, one it stopped reading counts what it read.
    pub bytes_in: u64,
    /// The response body bytes handed to the HTTP layer (none for HEAD, 204 or 304).
    pub bytes_out: u64,
    pub decision: Decision,
    pub duration_ms: u64,
}

/// Where audit records go.
pub trait AuditSink: Send + Sync {
    fn record(&self, record: AuditRecord);
}

/// The hooks a proxy runs with.
#[derive(Clone)]
pub struct Hooks {
    pub policy: Arc<dyn Policy>,
    pub inspector: Arc<dyn Inspector>,
    pub audit: Arc<dyn AuditSink>,
}

struct AllowAll;
struct NoInspection;
struct TracingAudit;

impl Policy for AllowAll {
    fn decide(&self, _: &RequestContext) -> Decision {
        Decision::Allow
    }
}

impl Inspector for NoInspection {
    fn start(&self, _: &RequestContext) -> Option<Box<dyn PlaintextInspector>> {
        None
    }
}

impl AuditSink for TracingAudit {
    fn record(&self, r: AuditRecord) {
        tracing::info!(
            target: "cloak::audit",
            request_id = %r.ctx.request_id,
            principal = r.ctx.principal.as_ref().map(|p| p.name.as_str()).unwrap_or("-"),
            op = ?r.ctx.op,
            bucket = r.ctx.bucket.as_deref().unwrap_or("-"),
            key = r.ctx.key.as_deref().unwrap_or("-"),
            status = r.status,
            error = r.error_code.unwrap_or("-"),
            bytes_in = r.bytes_in,
            bytes_out = r.bytes_out,
            duration_ms = r.duration_ms,
            allowed = r.decision == Decision::Allow,
        );
    }
}

impl Default for Hooks {
    fn default() -> Self {
        Self {
            policy: Arc::new(AllowAll),
            inspector: Arc::new(NoInspection),
            audit: Arc::new(TracingAudit),
        }
    }
}
