//! The embedded store's server: a loopback listener serving the s3s service over hyper, with
//! every connection task tracked so that shutdown can wait for requests in flight.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn, Instrument as _};

use super::backend::Backend;
use super::DevError;

/// An S3 store over a local directory, listening on 127.0.0.1 and requiring SigV4 signatures.
///
/// Dropping it without [`EmbeddedStore::shutdown`] also stops it, but without waiting.
#[derive(Debug)]
pub struct EmbeddedStore {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
}

impl EmbeddedStore {
    /// Serves an S3 API over `data_dir` on 127.0.0.1 (port 0 = any free port), checking SigV4
    /// with the given credentials (the proxy's *upstream* credentials).
    ///
    /// Buckets are the directories directly under `data_dir`, which is created if missing.
    pub async fn start(
        data_dir: &Path,
        port: u16,
        access_key: &str,
        secret_key: &str,
    ) -> Result<Self, DevError> {
        let backend = Backend::open(data_dir).map_err(|source| DevError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;

        // Without an auth provider s3s would accept unsigned requests, and the proxy's signing
        // code would go untested in dev mode.
        let mut builder = S3ServiceBuilder::new(backend);
        builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
        let service = builder.build();

        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|source| DevError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| DevError::Bind { port, source })?;

        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(accept_loop(listener, service, stopped));
        info!(%addr, data_dir = %data_dir.display(), "embedded S3 store listening");
        Ok(Self { addr, stop, server })
    }

    /// The base URL to use as the proxy's upstream endpoint (path-style addressing).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets every request already received finish, and returns once all
    /// connections are closed. Idle keep-alive connections are closed at once.
    pub async fn shutdown(self) {
        // An error only means the server task is already gone.
        let _ = self.stop.send(true);
        if let Err(e) = self.server.await {
            warn!(error = %e, "embedded S3 store task ended abnormally");
        }
        info!(addr = %self.addr, "embedded S3 store stopped");
    }
}

async fn accept_loop(listener: TcpListener, service: S3Service, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // A dropped sender counts as a stop too.
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let span = tracing::debug_span!("dev_store_conn", %peer);
                    let conn = serve_connection(tcp, service.clone(), stop.clone());
                    connections.spawn(conn.instrument(span));
                }
                Err(e) => accept_failed(e).await,
            },
            // Reap finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }

    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(tcp: TcpStream, service: S3Service, mut stop: watch::Receiver<bool>) {
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(tcp), service);
    tokio::pin!(conn);

    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        debug!(error = %e, "connection ended with an error");
    }
}

/// Accept errors are mostly transient (a connection reset before accept, or running out of file
/// descriptors); a short pause keeps the latter from spinning the loop.
async fn accept_failed(e: io::Error) {
    warn!(error = %e, "embedded S3 store could not accept a connection");
    tokio::time::sleep(Duration::from_millis(50)).await;
}
