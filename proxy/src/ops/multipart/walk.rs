//! [`PartWalk`]: an upload's current parts in part-number order, from the merge of its marker
//! folder and the store's part list, each read one page at a time.
//!
//! Both sources are sorted by part number, so the walk holds one folder page (at most 1,000
//! names), one page of the store's parts (at most 1,000) and the attempts of the part at hand,
//! whatever the number of parts. ListParts walks a page of parts; Complete walks them all.

use std::collections::VecDeque;

use cloak_envelope::ContentKey;
use http::{HeaderMap, Response};
use http_body_util::BodyExt;

use super::super::forward::relay;
use super::current::{current, Current, Held};
use super::folder::{FolderEntry, FolderPages};
use super::markers::{self, Marker};
use super::part::enc;
use crate::body::{self, ProxyBody};
use crate::error::S3Error;
use crate::state::App;
use crate::upstream::UpstreamRequest;
use crate::xml::{ListedPart, PartsPage};

/// The store's page size for ListParts (S3's largest).
const STORE_PAGE: u32 = 1000;

/// Where an upload lives: its object's upstream path and the store's upload id.
#[derive(Clone, Copy, Debug)]
pub struct Upload<'a> {
    pub object_path: &'a str,
    pub upstream_id: &'a str,
}

/// Walks the current parts of an upload (see the module docs).
pub struct PartWalk<'a> {
    folder: &'a str,
    after: u32,
    key: &'a ContentKey,
    markers: FolderPages<'a>,
    store: StoreParts<'a>,
}

/// The markers and staged object of one part number.
struct Group {
    part: u32,
    attempts: Vec<Marker>,
    staged: Option<FolderEntry>,
}

/// The store's part list, read on demand one page at a time.
struct StoreParts<'a> {
    app: &'a App,
    upload: Upload<'a>,
    page: VecDeque<ListedPart>,
    /// The marker of the next page, while the store says there is one.
    next: Option<u32>,
    storage_class: Option<String>,
}

impl<'a> PartWalk<'a> {
    /// Starts after part `after` (0 for all). The store's first page is read now, so that an
    /// upload it does not know (completed or aborted) ends the walk with the store's answer.
    pub async fn start(
        app: &'a App,
        bucket: &'a str,
        upload: Upload<'a>,
        folder: &'a str,
        key: &'a ContentKey,
        after: u32,
    ) -> Result<Result<Self, Response<ProxyBody>>, S3Error> {
        let store = match StoreParts::start(app, upload, after).await? {
            Ok(store) => store,
            Err(refused) => return Ok(Err(refused)),
        };
        let start_after = (after > 0).then(|| markers::after_part(folder, after));
        Ok(Ok(Self {
            folder,
            after,
            key,
            markers: FolderPages::new(app, bucket, folder, start_after),
            store,
        }))
    }

    /// The storage class the store reported for the upload.
    pub fn storage_class(&self) -> Option<&str> {
        self.store.storage_class.as_deref()
    }

    /// The next part whose current attempt the store holds.
    pub async fn next(&mut self) -> Result<Option<Current>, S3Error> {
        while let Some(group) = self.next_group().await? {
            let upstream = self.store.find(group.part).await?;
            let held = Held {
                upstream: upstream.as_ref(),
                staged: group.staged.as_ref(),
            };
            if let Some(found) = current(&group.attempts, held) {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Reads the folder's names for the next part number. Names that are not Cloak's, and
    /// notes that do not open under this upload's key, are passed over.
    async fn next_group(&mut self) -> Result<Option<Group>, S3Error> {
        let part = loop {
            let Some(entry) = self.markers.peek().await? else {
                return Ok(None);
            };
            // A store that ignores `start-after` lists the earlier parts too.
            match markers::part_of(self.folder, &entry.key) {
                Some(part) if part > self.after => break part,
                _ => drop(self.markers.take()),
            }
        };
        let staged_key = markers::staged_key(self.folder, part);
        let mut group = Group {
            part,
            attempts: Vec::new(),
            staged: None,
        };
        while let Some(entry) = self.markers.peek().await? {
            if markers::part_of(self.folder, &entry.key) != Some(part) {
                break;
            }
            let entry = self.markers.take().expect("an entry was just peeked");
            if entry.key == staged_key {
                group.staged = Some(entry);
            } else if let Some(m) = markers::parse(self.folder, &entry.key, self.key) {
                group.attempts.push(m);
            }
        }
        Ok(Some(group))
    }
}

impl<'a> StoreParts<'a> {
    async fn start(
        app: &'a App,
        upload: Upload<'a>,
        after: u32,
    ) -> Result<Result<Self, Response<ProxyBody>>, S3Error> {
        let mut parts = Self {
            app,
            upload,
            page: VecDeque::new(),
            next: None,
            storage_class: None,
        };
        match parts.read(after).await? {
            Ok(()) => Ok(Ok(parts)),
            Err(refused) => Ok(Err(refused)),
        }
    }

    /// The store's part `part`, if it has one. Calls come in rising part order.
    async fn find(&mut self, part: u32) -> Result<Option<ListedPart>, S3Error> {
        loop {
            while self.page.front().is_some_and(|p| p.number < part) {
                self.page.pop_front();
            }
            if let Some(front) = self.page.front() {
                return Ok((front.number == part)
                    .then(|| self.page.pop_front())
                    .flatten());
            }
            let Some(after) = self.next else {
                return Ok(None);
            };
            if let Err(refused) = self.read(after).await? {
                return Err(S3Error::upstream(format!(
                    "The store stopped listing the upload's parts ({})",
                    refused.status()
                )));
            }
        }
    }

    /// Reads the page after part `after`; the store's answer when it refuses.
    async fn read(&mut self, after: u32) -> Result<Result<(), Response<ProxyBody>>, S3Error> {
        let req = UpstreamRequest {
            method: http::Method::GET,
            path_and_query: format!(
                "{}?max-parts={STORE_PAGE}&part-number-marker={after}&uploadId={}",
                self.upload.object_path,
                enc(self.upload.upstream_id)
            ),
            headers: HeaderMap::new(),
            body: body::empty(),
        };
        let resp = self.app.upstream.call(req).await?;
        if !resp.status().is_success() {
            return Ok(Err(relay(resp)));
        }
        let xml = resp
            .into_body()
            .collect()
            .await
            .map_err(|_| S3Error::upstream("The store's part list was cut short"))?;
        let page = PartsPage::parse(&xml.to_bytes())
            .map_err(|e| S3Error::upstream(format!("The store's part list: {e}")))?;
        self.take_page(page, after);
        Ok(Ok(()))
    }

    fn take_page(&mut self, page: PartsPage, after: u32) {
        let mut parts = page.parts;
        // S3 lists parts in order; a store that does not is sorted here, page by page.
        parts.sort_by_key(|p| p.number);
        let last = parts.last().map(|p| p.number);
        // A next page must start further on, or the walk would never end.
        self.next = page
            .truncated
            .then(|| page.next_marker.or(last))
            .flatten()
            .filter(|n| *n > after);
        self.page = parts.into();
        self.storage_class = self.storage_class.take().or(page.storage_class);
    }
}
