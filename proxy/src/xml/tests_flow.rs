//! How the listing rewrite streams: any split of the input gives the same output, output
//! starts before the input ends, callbacks overlap up to the limit and no further, results
//! come back in document order, and damaged input fails without panicking.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{FutureExt as _, StreamExt as _};
use proptest::prelude::*;

use super::tests_fixtures::*;
use super::*;

/// A ListObjectsV2 page of `n` entries.
fn big_listing(n: usize) -> String {
    let mut doc = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>");
    doc.push_str("<Name>b</Name><KeyCount>1000</KeyCount><IsTruncated>false</IsTruncated>");
    for i in 0..n {
        doc.push_str(&format!(
            "\n  <Contents><Key>k{i:04}</Key><ETag>&quot;{i:032x}&quot;</ETag>\
             <Size>{i}</Size></Contents>"
        ));
    }
    doc.push_str("\n</ListBucketResult>\n");
    doc
}

fn split(doc: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (doc.len() + 1)).collect();
    points.extend([0, doc.len()]);
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|w| Bytes::copy_from_slice(&doc[w[0]..w[1]]))
        .collect()
}

fn config(concurrency: usize, key_encoding: KeyEncoding) -> ListingConfig {
    ListingConfig {
        concurrency,
        key_encoding,
        ..ListingConfig::default()
    }
}

/// Runs a rewrite to the end on a fresh runtime, for use inside proptest.
fn block_on_run(chunks: Vec<Bytes>, config: ListingConfig) -> (String, bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime starts");
    let outcome = runtime.block_on(run_chunks(chunks, Arc::new(Table::default()), config));
    (outcome.body, outcome.error.is_some())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_split_gives_the_same_output(
        which in 0..ALL.len(),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
        concurrency in 1usize..6,
    ) {
        let (doc, encoding) = ALL[which];
        let whole = block_on_run(split(doc.as_bytes(), &[]), config(32, encoding));
        let pieces = block_on_run(split(doc.as_bytes(), &cuts), config(concurrency, encoding));
        prop_assert!(!whole.1);
        prop_assert_eq!(pieces, whole);
    }

    #[test]
    fn damaged_input_fails_the_same_way_in_any_split(
        which in 0..ALL.len(),
        at in any::<usize>(),
        byte in any::<u8>(),
        truncate in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let (doc, encoding) = ALL[which];
        let mut damaged = doc.as_bytes().to_vec();
        let at = at % damaged.len();
        if truncate {
            damaged.truncate(at);
        } else {
            damaged[at] = byte;
        }
        let whole = block_on_run(split(&damaged, &[]), config(4, encoding));
        let pieces = block_on_run(split(&damaged, &cuts), config(4, encoding));
        prop_assert_eq!(pieces, whole);
    }
}

#[tokio::test]
async fn one_byte_at_a_time_gives_the_same_output() {
    for (doc, encoding) in ALL {
        let (whole, _) = rewrite(doc, encoding).await;
        let bytes = doc.bytes().map(|b| Bytes::from(vec![b])).collect();
        let table = Arc::new(Table::default());
        let outcome = run_chunks(bytes, table, config(3, encoding)).await;
        assert!(outcome.error.is_none(), "{doc}");
        assert_eq!(outcome.body, whole);
    }
}

#[tokio::test]
async fn bytes_outside_entries_go_out_before_the_input_ends() {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let input = Box::pin(futures_util::stream::unfold(
        receiver,
        |mut rx| async move {
            rx.recv()
                .await
                .map(|chunk| (Ok::<_, Infallible>(chunk), rx))
        },
    ));
    let table = Arc::new(Table::default());
    let mut stream = ListingRewriter::new(input, table, config(4, KeyEncoding::Url));

    let first_entry = MOTO_V1.find("<Contents>").unwrap();
    let send = |text: &str| {
        sender
            .send(Bytes::copy_from_slice(text.as_bytes()))
            .unwrap()
    };
    send(&MOTO_V1[..first_entry + 5]);
    let head = stream
        .next()
        .now_or_never()
        .flatten()
        .expect("ready")
        .unwrap();
    assert_eq!(head, &MOTO_V1.as_bytes()[..first_entry]);
    assert!(
        stream.next().now_or_never().is_none(),
        "waits for the rest of the entry"
    );

    send(&MOTO_V1[first_entry + 5..]);
    drop(sender);
    let mut rest = Vec::new();
    while let Some(item) = stream.next().await {
        rest.extend_from_slice(&item.unwrap());
    }
    let (expected, _) = rewrite(MOTO_V1, KeyEncoding::Url).await;
    assert_eq!([head.as_ref(), &rest].concat(), expected.as_bytes());
}

#[tokio::test(start_paused = true)]
async fn callbacks_overlap_up_to_the_limit() {
    let doc = Bytes::from(big_listing(1000));
    let delay = Duration::from_millis(100);
    let table = Arc::new(Table::with_delay(delay));
    let started = tokio::time::Instant::now();
    let outcome = run_chunks(vec![doc], Arc::clone(&table), config(32, KeyEncoding::None)).await;
    let elapsed = started.elapsed();

    assert!(outcome.error.is_none());
    assert_eq!(table.seen().len(), 1000);
    assert_eq!(table.most_in_flight.load(Ordering::SeqCst), 32);
    // 1000 callbacks 32 at a time take ceil(1000 / 32) = 32 rounds of 100 ms.
    assert!(elapsed >= delay * 32 && elapsed < delay * 33, "{elapsed:?}");
    assert!(outcome
        .body
        .contains("<Key>k0999</Key><ETag>&quot;etag-of-k0999&quot;"));
}

#[tokio::test(start_paused = true)]
async fn a_limit_of_one_runs_callbacks_in_turn() {
    let doc = Bytes::from(big_listing(10));
    let table = Arc::new(Table::with_delay(Duration::from_millis(100)));
    let started = tokio::time::Instant::now();
    let outcome = run_chunks(vec![doc], Arc::clone(&table), config(1, KeyEncoding::None)).await;
    assert!(outcome.error.is_none());
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(table.most_in_flight.load(Ordering::SeqCst), 1);
}

/// Finishes the callbacks of later entries first.
struct Reversed;

#[async_trait]
impl EntryRewriter for Reversed {
    async fn rewrite(&self, entry: &EntryFacts) -> Result<Verdict, RewriteError> {
        let wait = 1000 - entry.size;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        Ok(Verdict::Show(EntryView::plaintext(entry.size + 1, "\"x\"")))
    }
}

#[tokio::test(start_paused = true)]
async fn results_keep_document_order_when_callbacks_finish_out_of_order() {
    let doc = big_listing(100);
    let input = futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from(doc.clone()))]);
    let stream = ListingRewriter::new(input, Arc::new(Reversed), config(16, KeyEncoding::None));
    let chunks: Vec<Bytes> = stream.map(|item| item.unwrap()).collect().await;
    let body = String::from_utf8(chunks.concat()).unwrap();
    let sizes: Vec<u64> = body
        .split("<Size>")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(sizes, (1..=100).collect::<Vec<u64>>());
}

/// Never finishes, counting how many callbacks were started.
#[derive(Default)]
struct Stalled {
    started: AtomicUsize,
}

#[async_trait]
impl EntryRewriter for Stalled {
    async fn rewrite(&self, _: &EntryFacts) -> Result<Verdict, RewriteError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }
}

#[tokio::test]
async fn no_more_callbacks_start_than_the_limit() {
    let doc = Bytes::from(big_listing(1000));
    let input = futures_util::stream::iter([Ok::<_, Infallible>(doc)]);
    let stalled = Arc::new(Stalled::default());
    let rewriter: Arc<dyn EntryRewriter> = Arc::clone(&stalled) as _;
    let mut stream = ListingRewriter::new(input, rewriter, config(2, KeyEncoding::None));
    let mut head = Vec::new();
    while let Some(item) = stream.next().now_or_never() {
        head.extend_from_slice(&item.expect("more to come").unwrap());
    }
    assert!(head.ends_with(b"<IsTruncated>false</IsTruncated>\n  "));
    assert_eq!(stalled.started.load(Ordering::SeqCst), 2);
}
