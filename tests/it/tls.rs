//! TLS with the real binary: a TLS front (a test CA's certificate) before the emulator, and
//! a local CONNECT proxy. Certificate failures are fatal at once and readable; extra roots
//! come from `--ca-bundle` or `SSL_CERT_FILE`; `HTTPS_PROXY` / `NO_PROXY` are honoured.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::cli::Served;

const CA: &str = "tests/data/tls/ca.pem";

/// TLS on a free loopback port, each connection forwarded to `backend`; counts handshakes.
async fn tls_front(backend: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter("tests/data/tls/leaf.pem")
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let key = PrivateKeyDer::from_pem_file("tests/data/tls/leaf.key").unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await
                    && let Ok(mut up) = TcpStream::connect(backend).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                }
            });
        }
    });
    (addr, count)
}

/// An HTTP CONNECT proxy on a free loopback port; counts tunnels.
async fn connect_proxy() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let Some(target) = head
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split_whitespace().next())
                else {
                    let _ = client.write_all(b"HTTP/1.1 405 CONNECT only\r\n\r\n").await;
                    return;
                };
                let Ok(mut up) = TcpStream::connect(target).await else {
                    return;
                };
                seen.fetch_add(1, Ordering::SeqCst);
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
            });
        }
    });
    (addr, count)
}

/// Run `decom api DescribePhysicalConnections` against `endpoint` with extra env and args.
async fn api(
    served: &Arc<Served>,
    endpoint: String,
    env: Vec<(&'static str, String)>,
    args: Vec<&'static str>,
) -> std::process::Output {
    let served = served.clone();
    tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("decom"));
        cmd.env_clear()
            .env("HOME", home.path())
            .env(
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                served.banner["access_key_id"].as_str().unwrap(),
            )
            .env(
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                served.banner["access_key_secret"].as_str().unwrap(),
            )
            .env("NO_COLOR", "1")
            .args(["--endpoint", &endpoint])
            .args(args)
            .args(["api", "DescribePhysicalConnections", "RegionId=cn-shanghai"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_errors_are_fatal_and_readable_roots_and_proxies_are_honoured() {
    let served = Arc::new(Served::start("examples/worlds/demo.yaml"));
    let backend: SocketAddr = served
        .endpoint()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let (front, handshakes) = tls_front(backend).await;
    let endpoint = format!("https://{front}");

    // An unknown authority: one connection, no retry, a sentence instead of Debug output.
    let started = std::time::Instant::now();
    let out = api(&served, endpoint.clone(), vec![], vec![]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "the server's TLS certificate was refused: it is not signed by a trusted authority"
        ),
        "{err}"
    );
    assert!(
        !err.contains("Other(") && !err.contains("UnknownIssuer"),
        "{err}"
    );
    assert_eq!(handshakes.load(Ordering::SeqCst), 1, "not retried");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // Extra roots: --ca-bundle, DECOM_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR.
    let out = api(&served, endpoint.clone(), vec![], vec!["--ca-bundle", CA]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for var in ["DECOM_CA_BUNDLE", "SSL_CERT_FILE"] {
        let out = api(
            &served,
            endpoint.clone(),
            vec![(var, CA.to_string())],
            vec![],
        )
        .await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{var}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = api(
        &served,
        endpoint.clone(),
        vec![("SSL_CERT_DIR", "tests/data/tls".into())],
        vec![],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = api(
        &served,
        endpoint.clone(),
        vec![],
        vec!["--ca-bundle", "Cargo.toml"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no PEM certificate"));

    // Through a CONNECT proxy from HTTPS_PROXY; NO_PROXY bypasses it.
    let (proxy, tunnels) = connect_proxy().await;
    let proxy_url = format!("http://{proxy}");
    let out = api(
        &served,
        endpoint.clone(),
        vec![("HTTPS_PROXY", proxy_url.clone())],
        vec!["--ca-bundle", CA],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        tunnels.load(Ordering::SeqCst) >= 1,
        "the proxy carried the call"
    );
    let before = tunnels.load(Ordering::SeqCst);
    let out = api(
        &served,
        endpoint.clone(),
        vec![("HTTPS_PROXY", proxy_url), ("NO_PROXY", "127.0.0.1".into())],
        vec!["--ca-bundle", CA],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        tunnels.load(Ordering::SeqCst),
        before,
        "NO_PROXY bypasses the proxy"
    );
}
