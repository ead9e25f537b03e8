//! The floor: the least a streaming HTTP reverse proxy can do.
//!
//! It forwards each request to the upstream as it arrives and each response back, body
//! frames passed through as hyper hands them over, with no authentication, no crypto and no
//! header rewriting (the Host header stays, so the client's signature still verifies
//! upstream). Whatever Cloak costs above this is the cost of what Cloak adds.
//!
//! It runs as its own process (`cloak-loadtest floor ...`) so its CPU time and memory can be
//! read from `/proc` like any other proxy's.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;

/// Which tokio runtime the floor runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    /// One thread: the cheapest per byte, as a minimal forwarder would be written.
    CurrentThread,
    /// One worker per core, as a server meant to scale would be written.
    MultiThread,
}

type Upstream = Client<HttpConnector, Incoming>;
type ResponseBody = Either<Incoming, Empty<Bytes>>;

/// Serves until killed.
pub fn run(listen: SocketAddr, upstream: SocketAddr, runtime: Runtime) -> anyhow::Result<()> {
    let mut builder = match runtime {
        Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Runtime::MultiThread => tokio::runtime::Builder::new_multi_thread(),
    };
    let rt = builder
        .enable_all()
        .build()
        .context("building the runtime")?;
    rt.block_on(serve(listen, upstream))
}

async fn serve(listen: SocketAddr, upstream: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Upstream = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector);
    let base: Arc<str> = format!("http://{upstream}").into();

    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors, say: back off rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (client, base) = (client.clone(), base.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| forward(client.clone(), base.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    client: Upstream,
    base: Arc<str>,
    mut request: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{base}{target}").parse::<Uri>() else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    *request.uri_mut() = uri;
    match client.request(request).await {
        Ok(response) => Ok(response.map(Either::Left)),
        Err(_) => Ok(status(StatusCode::BAD_GATEWAY)),
    }
}

fn status(code: StatusCode) -> Response<ResponseBody> {
    let mut response = Response::new(Either::Right(Empty::new()));
    *response.status_mut() = code;
    response
}
