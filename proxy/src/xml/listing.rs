//! [`ListingRewriter`]: streams a listing from the upstream to the client, rewriting each entry
//! as it passes, without ever holding the whole page.
//!
//! Bytes outside entries are sent on as soon as they are tokenized. An entry is buffered until
//! its end tag, then its rewrite callback starts; up to `concurrency` callbacks run at once
//! while the document keeps being read, and their results are put back in document order.
//! Memory is bounded by `concurrency` entries waiting on callbacks, one entry being read, and
//! the pieces queued between them (bounded in number, each at most one input chunk).

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::stream::{FuturesOrdered, MapOk};
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use http_body::{Body, Frame};
use http_body_util::{BodyDataStream, StreamBody};

use super::entry::Entry;
use super::error::{ListingError, UpstreamXmlError};
use super::outline::{Event, Outline};
use super::rewriter::EntryRewriter;
use super::token::{self, Token};
use super::KeyEncoding;

/// How a listing is rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingConfig {
    /// How many entry callbacks may run at once (at least one).
    pub concurrency: usize,
    /// The `encoding-type` the client asked for. A `<EncodingType>url</EncodingType>` that
    /// precedes the entries also makes keys URL-decoded for the callback.
    pub key_encoding: KeyEncoding,
    /// The largest entry, and the largest single token, held in memory.
    pub max_entry_bytes: usize,
}

/// A stream of the rewritten listing, read from an upstream body or byte stream `S`.
///
/// Everything outside the entries is copied byte for byte: the declaration, namespaces,
/// whitespace, markers and continuation tokens, `<DeleteMarker>` and `<CommonPrefixes>`.
/// In each `<Contents>`, `<Version>` or `<Part>`, only `<Size>` and `<ETag>` are replaced and,
/// when the callback says so, `Checksum*` elements removed; keys stay exactly as the upstream
/// encoded them.
///
/// When entries are skipped, a `<KeyCount>` that follows them (moto's and rclone's order) is
/// lowered by their number. One that precedes them (S3's order) has gone out before they are
/// seen and is left as sent, as are `<MaxKeys>` and `<IsTruncated>`: a page may then hold
/// fewer entries than its count, and may be empty yet truncated, which clients page past.
///
/// The first error ends the stream, after the bytes that preceded it.
pub struct ListingRewriter<S> {
    input: S,
    input_done: bool,
    rewriter: Arc<dyn EntryRewriter>,
    config: ListingConfig,
    outline: Outline,
    /// Unsent input. It starts at the current run: plain bytes, or the entry being read.
    buf: BytesMut,
    /// How much of `buf` has been tokenized.
    scanned: usize,
    /// The tokens of the entry being read, when one is.
    entry: Option<Vec<Token>>,
    queue: FuturesOrdered<PieceFuture>,
    entries_queued: usize,
    skipped: u64,
    halted: bool,
    finished: bool,
}

/// One piece of output, in document order.
enum Piece {
    Plain(Bytes),
    /// A rewritten entry, or `None` when skipped.
    Entry(Option<Bytes>),
    KeyCount {
        raw: Bytes,
        count: u64,
    },
}

type PieceFuture = Pin<Box<dyn Future<Output = Result<Piece, ListingError>> + Send>>;

/// The body form of [`ListingRewriter`], for a response.
pub type ListingBody<S> = StreamBody<MapOk<ListingRewriter<S>, fn(Bytes) -> Frame<Bytes>>>;

impl Default for ListingConfig {
    fn default() -> Self {
        Self {
            concurrency: 32,
            key_encoding: KeyEncoding::None,
            max_entry_bytes: 64 * 1024,
        }
    }
}

impl<S, E> ListingRewriter<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    /// Rewrites the listing read from `input`, asking `rewriter` about each entry.
    pub fn new(input: S, rewriter: Arc<dyn EntryRewriter>, config: ListingConfig) -> Self {
        Self {
            input,
            input_done: false,
            rewriter,
            outline: Outline::new(config.max_entry_bytes),
            config,
            buf: BytesMut::new(),
            scanned: 0,
            entry: None,
            queue: FuturesOrdered::new(),
            entries_queued: 0,
            skipped: 0,
            halted: false,
            finished: false,
        }
    }

    /// The rewritten listing as a response body.
    pub fn into_body(self) -> ListingBody<S> {
        StreamBody::new(self.map_ok(Frame::data as fn(Bytes) -> Frame<Bytes>))
    }
}

impl<B> ListingRewriter<BodyDataStream<B>>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    /// Rewrites the listing in an upstream response body; its trailers are ignored.
    pub fn from_body(body: B, rewriter: Arc<dyn EntryRewriter>, config: ListingConfig) -> Self {
        Self::new(BodyDataStream::new(body), rewriter, config)
    }
}

impl<S, E> Stream for ListingRewriter<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    type Item = Result<Bytes, ListingError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            this.pump(cx);
            match this.queue.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(piece))) => match this.emit(piece) {
                    Some(bytes) => return Poll::Ready(Some(Ok(bytes))),
                    None => continue,
                },
                Poll::Ready(Some(Err(e))) => {
                    this.finished = true;
                    this.queue = FuturesOrdered::new();
                    return Poll::Ready(Some(Err(e)));
                }
                // `pump` has registered for more input unless the input is done.
                Poll::Ready(None) if !this.input_done && !this.halted => return Poll::Pending,
                Poll::Ready(None) => this.finished = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<S, E> ListingRewriter<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    /// Tokenizes what is buffered and reads more input, until the queue is full, the input
    /// is pending or the document is done. Failures are queued in order.
    fn pump(&mut self, cx: &mut Context<'_>) {
        while !self.halted && self.has_room() {
            if let Err(e) = self.tokenize() {
                return self.halt(e);
            }
            if !self.has_room() || self.input_done {
                break;
            }
            match self.input.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunk))) => self.buf.extend_from_slice(&chunk),
                Poll::Ready(Some(Err(e))) => return self.halt(ListingError::ReadFailed(e.into())),
                Poll::Ready(None) => self.input_done = true,
                Poll::Pending => break,
            }
        }
        if !self.halted && self.input_done && self.has_room() {
            if let Err(e) = self.outline.finish() {
                return self.halt(e.into());
            }
        }
        self.flush_plain();
    }

    /// Consumes every complete token in `buf`, while there is room for what they produce.
    fn tokenize(&mut self) -> Result<(), ListingError> {
        while self.has_room() {
            let rest = &self.buf[self.scanned..];
            let Some((kind, len)) = token::next(rest, self.input_done)? else {
                return self.check_held();
            };
            let token = Token {
                kind,
                start: self.scanned,
                len,
            };
            let event = self.outline.observe(kind, token.raw(&self.buf))?;
            self.place(token, event)?;
        }
        Ok(())
    }

    /// Files a token where its event says it belongs.
    fn place(&mut self, token: Token, event: Event) -> Result<(), ListingError> {
        match event {
            Event::Pass => self.scanned = token.end(),
            Event::KeyCount(count) => {
                self.flush_plain();
                let raw = self.buf.split_to(token.len).freeze();
                self.push(Piece::KeyCount { raw, count });
            }
            Event::EntryOpen => {
                self.flush_plain();
                self.scanned = token.len;
                self.entry = Some(vec![Token { start: 0, ..token }]);
            }
            Event::InEntry | Event::EntryClose => {
                self.scanned = token.end();
                let tokens = self.entry.get_or_insert_with(Vec::new);
                tokens.push(token);
                if event == Event::EntryClose {
                    self.start_entry()?;
                }
            }
        }
        Ok(())
    }

    /// Parses the entry just read and queues its rewrite.
    fn start_entry(&mut self) -> Result<(), ListingError> {
        let tokens = self.entry.take().unwrap_or_default();
        let raw = self.buf.split_to(self.scanned).freeze();
        self.scanned = 0;
        let cx = self.outline.context(self.config.key_encoding);
        let (entry, facts) = Entry::parse(raw, &tokens, cx)?;
        let rewriter = Arc::clone(&self.rewriter);
        self.entries_queued += 1;
        self.queue.push_back(Box::pin(async move {
            let verdict = rewriter.rewrite(&facts).await?;
            Ok(Piece::Entry(entry.render(&verdict)))
        }));
        Ok(())
    }

    /// Refuses to wait for the rest of an entry or token larger than the limit.
    fn check_held(&self) -> Result<(), ListingError> {
        let held = if self.entry.is_some() {
            self.buf.len()
        } else {
            self.buf.len() - self.scanned
        };
        if held > self.config.max_entry_bytes {
            let limit = self.config.max_entry_bytes;
            return Err(UpstreamXmlError::ElementTooLarge { limit }.into());
        }
        Ok(())
    }

    /// Queues the tokenized plain bytes, unless an entry is being read.
    fn flush_plain(&mut self) {
        if self.entry.is_none() && self.scanned > 0 {
            let plain = self.buf.split_to(self.scanned).freeze();
            self.scanned = 0;
            self.push(Piece::Plain(plain));
        }
    }

    /// Queues what came before the failure, then the failure, and stops reading.
    fn halt(&mut self, error: ListingError) {
        self.flush_plain();
        self.halted = true;
        self.queue
            .push_back(Box::pin(std::future::ready(Err(error))));
    }

    fn push(&mut self, piece: Piece) {
        self.queue
            .push_back(Box::pin(std::future::ready(Ok(piece))));
    }

    /// Whether another callback may start and the queue may grow. Plain pieces are flushed
    /// before each entry, around a `<KeyCount>` and after each read, so the piece limit only
    /// binds (and stops reading) when many small reads queue up behind a slow callback.
    fn has_room(&self) -> bool {
        let limit = self.config.concurrency.max(1);
        self.entries_queued < limit && self.queue.len() < 4 * limit + 8
    }
}

impl<S> ListingRewriter<S> {
    /// The bytes a dequeued piece becomes, if any.
    fn emit(&mut self, piece: Piece) -> Option<Bytes> {
        match piece {
            Piece::Plain(bytes) => Some(bytes),
            Piece::Entry(rendered) => {
                self.entries_queued -= 1;
                self.skipped += u64::from(rendered.is_none());
                rendered.filter(|b| !b.is_empty())
            }
            // Every entry before this count has been dequeued, so `skipped` is final for it.
            Piece::KeyCount { raw, .. } if self.skipped == 0 => Some(raw),
            Piece::KeyCount { count, .. } => {
                Some(Bytes::from(count.saturating_sub(self.skipped).to_string()))
            }
        }
    }
}
