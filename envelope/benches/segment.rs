//! Segment encryption and decryption throughput, next to raw AES-256-GCM from three backends.
//!
//! Every AEAD is measured sealing 64 KiB buffers in place; the format is measured end to end
//! (copy into units, seal, frame; or buffer, open, check position, release) over 4 MiB. At the
//! end the bench prints each path's throughput as a ratio of the fastest raw AEAD measured in
//! this same run. The bar is 0.85.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cloak_envelope::layout::Layout;
use cloak_envelope::{ContentKey, Expect, ObjectKind, Opener, Sealer, Trailer};
use criterion::{black_box, criterion_group, Criterion, Throughput};

// The proxy runs on mimalloc; measure with the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEG: usize = 64 * 1024;
const OBJECT: usize = 4 << 20;
const SEGMENT_RUN: usize = 16 * SEG;
const KEY: [u8; 32] = [7; 32];

fn raw_aeads(c: &mut Criterion) {
    let mut g = c.benchmark_group("aead");
    g.throughput(Throughput::Bytes(SEG as u64));
    let mut buf = vec![0x5a_u8; SEG];

    let ring_key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &KEY).unwrap(),
    );
    g.bench_function("ring", |b| {
        b.iter(|| {
            let nonce = ring::aead::Nonce::assume_unique_for_key([1; 12]);
            let aad = ring::aead::Aad::empty();
            let tag = ring_key
                .seal_in_place_separate_tag(nonce, aad, &mut buf)
                .unwrap();
            black_box(tag.as_ref()[0]);
        })
    });

    let lc_key = aws_lc_rs::aead::LessSafeKey::new(
        aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &KEY).unwrap(),
    );
    g.bench_function("aws-lc-rs", |b| {
        b.iter(|| {
            let nonce = aws_lc_rs::aead::Nonce::assume_unique_for_key([1; 12]);
            let aad = aws_lc_rs::aead::Aad::empty();
            let tag = lc_key
                .seal_in_place_separate_tag(nonce, aad, &mut buf)
                .unwrap();
            black_box(tag.as_ref()[0]);
        })
    });

    use aes_gcm::aead::{AeadInPlace, KeyInit};
    let rc = aes_gcm::Aes256Gcm::new_from_slice(&KEY).unwrap();
    g.bench_function("rustcrypto", |b| {
        b.iter(|| {
            let nonce = aes_gcm::Nonce::from_slice(&[1; 12]);
            black_box(rc.encrypt_in_place_detached(nonce, b"", &mut buf).unwrap());
        })
    });
    g.finish();
}

fn format_paths(c: &mut Criterion) {
    let key = Arc::new(ContentKey::derive(&KEY, &[3; 16]));
    let layout = Layout::new(SEG as u32);
    // Segment paths: the format's per-segment work, pieces arriving whole (as the proxy sees
    // them when the network hands it 64 KiB or more at a time).
    bench_paths(c, "format", &key, layout, SEGMENT_RUN, SEG);
    // Streaming paths: 16 KiB pieces, as a slow socket delivers them; includes the copy that
    // gathers pieces into a segment.
    bench_paths(c, "stream", &key, layout, OBJECT, 16 * 1024);
}

fn bench_paths(
    c: &mut Criterion,
    group: &str,
    key: &Arc<ContentKey>,
    layout: Layout,
    len: usize,
    feed: usize,
) {
    let plain = vec![0x5a_u8; len];
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(len as u64));
    g.bench_function("encrypt", |b| {
        b.iter(|| black_box(seal_units(key, layout, &plain, feed).0.len()))
    });

    let (units, salt) = seal_units(key, layout, &plain, feed);
    let stored: Vec<u8> = units.concat();
    let total = stored.len() as u64 + 96;
    let trailer = Trailer {
        kind: ObjectKind::Single,
        plaintext_len: len as u64,
        part_count: 1,
        first_part: 0,
        uniform_part_len: 0,
        etag_md5: [0; 16],
        unit_salt: salt,
    };
    let expect = Expect::from_trailer(&trailer, &layout, total).unwrap();
    let plan = layout.plan_all(total).unwrap();
    let piece = if feed == SEG { SEG + 32 } else { feed };
    let pieces: Vec<Bytes> = stored.chunks(piece).map(Bytes::copy_from_slice).collect();
    g.bench_function("decrypt", |b| {
        b.iter(|| {
            let mut opener = Opener::new(key.clone(), layout, expect.clone(), &plan);
            let mut out = Vec::with_capacity(len / SEG + 1);
            for p in &pieces {
                opener.push(p.clone(), &mut out).unwrap();
            }
            opener.finish().unwrap();
            black_box(out.len())
        })
    });
    g.finish();
}

fn seal_units(
    key: &Arc<ContentKey>,
    layout: Layout,
    plain: &[u8],
    feed: usize,
) -> (Vec<Bytes>, [u8; 8]) {
    let mut sealer = Sealer::new(key.clone(), layout, 0, plain.len() as u64);
    let salt = sealer.salt();
    let mut out = Vec::with_capacity(plain.len() / SEG + 1);
    for piece in plain.chunks(feed) {
        sealer.push(piece, &mut out).unwrap();
    }
    sealer.finish(&mut out).unwrap();
    (out, salt)
}

fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

fn config() -> Criterion {
    Criterion::default()
        .output_directory(&output_dir())
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

/// Median time per iteration, in nanoseconds, as criterion recorded it.
fn median_ns(group: &str, id: &str) -> Option<f64> {
    let path = output_dir().join(group).join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let at = text.find("\"median\"")?;
    let rest = &text[at..];
    let pe = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let end = rest[pe..].find([',', '}'])?;
    rest[pe..pe + end].trim().parse().ok()
}

fn report() {
    let gbps = |bytes: usize, ns: f64| bytes as f64 / ns;
    let aeads: Vec<(&str, f64)> = ["ring", "aws-lc-rs", "rustcrypto"]
        .iter()
        .filter_map(|id| Some((*id, gbps(SEG, median_ns("aead", id)?))))
        .collect();
    let Some((best_name, best)) = aeads.iter().cloned().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        println!("(ratio report skipped: run all benchmarks to compute it)");
        return;
    };
    println!("\nAES-256-GCM, 64 KiB buffers, median GB/s (one core):");
    for (name, v) in &aeads {
        println!("  {name:<12} {v:6.2}");
    }
    println!("Against the fastest AEAD ({best_name}); the bar (segment paths) is 0.85:");
    for (group, len, label) in [
        ("format", SEGMENT_RUN, "segment"),
        ("stream", OBJECT, "stream 16K"),
    ] {
        for path in ["encrypt", "decrypt"] {
            if let Some(ns) = median_ns(group, path) {
                let v = gbps(len, ns);
                let verdict = match (group, v / best >= 0.85) {
                    ("format", true) => "meets the bar",
                    ("format", false) => "BELOW the bar",
                    _ => "informational",
                };
                println!(
                    "  {label:<11}{path:<8} {v:6.2} GB/s  ratio {:.3}  {verdict}",
                    v / best
                );
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = config();
    targets = raw_aeads, format_paths
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
