//! A stand-in for the one Kubernetes API call Vault's Kubernetes auth makes: TokenReview.
//!
//! There is no Kubernetes here, so this answers `POST /apis/authentication.k8s.io/v1/
//! tokenreviews` itself: a review of the currently issued service-account token succeeds for
//! `system:serviceaccount:<namespace>:<name>`, any other token is unauthenticated. The login
//! itself runs in a real OpenBao, through its real Kubernetes auth method.

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const NAMESPACE: &str = "default";
pub const ACCOUNT: &str = "cloak";
const UID: &str = "5b5e6a36-0c8f-4a5e-9a36-cloak";

/// A throw-away self-signed certificate (its key was discarded): Vault insists on a cluster CA
/// when it is told not to read one from a pod, though over plain HTTP it is never used.
pub const CLUSTER_CA: &str = "\
-----BEGIN CERTIFICATE-----
MIIBnjCCAUOgAwIBAgIUXyNjfuzJlBRpgvIXKFOxIxVYRnkwCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYY2xvYWstdGVzdC1rdWJlcm5ldGVzLWNhMCAXDTI2MTIwMzIw
MzkzMFoYDzIxMjYxMTA5MjAzOTMwWjAjMSEwHwYDVQQDDBhjbG9hay10ZXN0LWt1
YmVybmV0ZXMtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQ/dYBIgSm7CLoW
Qlr1/y4uWzzh869Gw8likUrB/owkiZsqSz6gIu2gWrdq4rWctEmvd4a0gAHovorX
pnAiLsrvo1MwUTAdBgNVHQ4EFgQUETg3QWrP7EI/1S7AnzKj8zyP5iowHwYDVR0j
BBgwFoAUETg3QWrP7EI/1S7AnzKj8zyP5iowDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNJADBGAiEAwsqPOZjf6IsSC2KX/KI+gJ7NsBv6R3gRxLrHou7/jvQC
IQDSpCrm0yzxxrJPcwN6NJDrG7MOG+GqDYuNEUw+Xj05yA==
-----END CERTIFICATE-----
";

/// The TokenReview endpoint, and the token it currently accepts.
pub struct TokenReviewer {
    pub url: String,
    issued: Arc<Mutex<String>>,
    reviews: Arc<Mutex<Vec<String>>>,
}

impl TokenReviewer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let issued = Arc::new(Mutex::new(String::new()));
        let reviews = Arc::new(Mutex::new(Vec::new()));
        let (i, r) = (issued.clone(), reviews.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, i.clone(), r.clone()));
            }
        });
        Self {
            url,
            issued,
            reviews,
        }
    }

    /// Issues a new service-account token (an unsigned JWT with the claims Vault reads) and
    /// makes it the only one that reviews as valid.
    pub fn issue(&self, serial: u32) -> String {
        let header = B64URL.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iss": "kubernetes/serviceaccount",
            "sub": format!("system:serviceaccount:{NAMESPACE}:{ACCOUNT}"),
            "kubernetes.io/serviceaccount/namespace": NAMESPACE,
            "kubernetes.io/serviceaccount/service-account.name": ACCOUNT,
            "kubernetes.io/serviceaccount/service-account.uid": UID,
            "serial": serial,
        })
        .to_string();
        let jwt = format!(
            "{header}.{}.{}",
            B64URL.encode(claims),
            B64URL.encode("sig")
        );
        *self.issued.lock().expect("lock") = jwt.clone();
        jwt
    }

    /// The tokens Vault asked about, in order.
    pub fn reviewed(&self) -> Vec<String> {
        self.reviews.lock().expect("lock").clone()
    }
}

async fn answer(
    mut stream: TcpStream,
    issued: Arc<Mutex<String>>,
    reviews: Arc<Mutex<Vec<String>>>,
) {
    let Some(body) = read_request(&mut stream).await else {
        return;
    };
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let token = request["spec"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let valid = !token.is_empty() && token == *issued.lock().expect("lock");
    reviews.lock().expect("lock").push(token);
    let username = format!("system:serviceaccount:{NAMESPACE}:{ACCOUNT}");
    let status = if valid {
        serde_json::json!({
            "authenticated": true,
            "user": {"username": username, "uid": UID},
        })
    } else {
        serde_json::json!({"authenticated": false})
    };
    let reply = serde_json::json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "status": status,
    })
    .to_string();
    let head = format!(
        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        reply.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(reply.as_bytes()).await;
}

/// Reads one HTTP/1.1 request and returns its body.
async fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            return Some(buf[end + 4..end + 4 + length].to_vec());
        }
    }
}
