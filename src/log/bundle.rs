//! Entry bundles: how records are stored. The records one transaction appends are kept as a few rows of
//! `log_bundles`, each holding up to [`MAX_RECORDS`] consecutive encodings `E(r)` back to back, every one preceded by
//! its length (u32, big endian), compressed as one zstd frame ([`Codec::Zstd`]; bundles written before compression
//! are [`Codec::Raw`]). The leaves hash the encodings exactly as they come out of [`open`].
//! Pure code: no I/O. `docs/log-encoding.md` defines the layout for outside verifiers.
use std::borrow::Cow;
use std::cell::RefCell;

use super::chain::ENCODING_VERSION;

/// Records per bundle at most: a single record is read by reading its bundle, so bundles stay small.
pub const MAX_RECORDS: usize = 64;

/// The most bytes a bundle may unpack to; a frame that claims more is refused unread.
const MAX_UNPACKED: u64 = 64 << 20;

/// The zstd level bundles are written at: the fastest, which on log records compresses as well as the default.
const LEVEL: i32 = 1;

/// How a bundle's `data` holds its packed encodings (`log_bundles.codec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// As [`pack`] made them.
    Raw,
    /// One zstd frame (RFC 8878) of them, with its content size.
    Zstd,
}

impl Codec {
    pub fn code(self) -> i64 {
        match self {
            Codec::Raw => 0,
            Codec::Zstd => 1,
        }
    }

    pub fn of(code: i64) -> Option<Codec> {
        match code {
            0 => Some(Codec::Raw),
            1 => Some(Codec::Zstd),
            _ => None,
        }
    }
}

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// `packed` (from [`pack`]) as the `data` of a [`Codec::Zstd`] bundle; `None` only when zstd fails.
pub fn compress(packed: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with_borrow_mut(|c| {
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        c.as_mut()?.compress(packed).ok()
    })
}

/// Hands `read` the packed encodings a bundle's `data` holds, unpacked into a buffer this thread keeps for the
/// next bundle; `None` as for [`open`].
pub fn open_with<R>(codec: i64, data: &[u8], read: impl FnOnce(&[u8]) -> R) -> Option<R> {
    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    match Codec::of(codec)? {
        Codec::Raw => Some(read(data)),
        Codec::Zstd => BUFFER.with_borrow_mut(|buffer| {
            let size = frame_size(data)?;
            buffer.clear();
            buffer.reserve(size);
            let written = decompressing(|d| d.decompress_to_buffer(data, buffer).ok())?;
            (written == size && buffer.len() == size).then(|| read(buffer))
        }),
    }
}

/// `unpack` with this thread's decompressor, made on first use; `None` when zstd cannot make one.
fn decompressing<R>(unpack: impl FnOnce(&mut zstd::bulk::Decompressor<'static>) -> Option<R>) -> Option<R> {
    DECOMPRESSOR.with_borrow_mut(|d| {
        if d.is_none() {
            *d = zstd::bulk::Decompressor::new().ok();
        }
        unpack(d.as_mut()?)
    })
}

/// The size a zstd frame says it unpacks to, if it says and that is no more than a bundle may hold.
fn frame_size(data: &[u8]) -> Option<usize> {
    let size = zstd::zstd_safe::get_frame_content_size(data).ok()??;
    if size > MAX_UNPACKED {
        return None;
    }
    usize::try_from(size).ok()
}

/// The packed encodings a bundle's `data` holds; `None` when they cannot be read (an unknown codec, a frame that
/// is not zstd, says nothing of its size, claims more than a bundle may hold, or does not unpack to what it says).
pub fn open(codec: i64, data: &[u8]) -> Option<Cow<'_, [u8]>> {
    match Codec::of(codec)? {
        Codec::Raw => Some(Cow::Borrowed(data)),
        Codec::Zstd => {
            let size = frame_size(data)?;
            let out = decompressing(|d| d.decompress(data, size).ok())?;
            (out.len() == size).then_some(Cow::Owned(out))
        }
    }
}

/// Encodings back to back, each after its length.
pub fn pack<'a>(encodings: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in encodings {
        out.extend_from_slice(&(e.len() as u32).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Where each encoding lies in packed `data`, in order; `None` when its bytes are not a sequence of
/// length-prefixed parts.
pub fn ranges(data: &[u8]) -> Option<Vec<std::ops::Range<usize>>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let len = u32::from_be_bytes(data.get(at..at.checked_add(4)?)?.try_into().ok()?) as usize;
        let start = at + 4;
        let end = start.checked_add(len).filter(|&end| end <= data.len())?;
        out.push(start..end);
        at = end;
    }
    Some(out)
}

/// The encodings packed `data` holds, in order; `None` as for [`ranges`].
pub fn split(data: &[u8]) -> Option<Vec<&[u8]>> {
    ranges(data)?.into_iter().map(|r| data.get(r)).collect()
}

/// What a verifier needs of every record without decoding it: its sequence number, time, and whether it is a
/// checkpoint record (kind `admin`, action `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peek<'a> {
    pub seq: i64,
    pub at: &'a [u8],
    pub checkpoint: bool,
}

/// Reads [`Peek`] from an encoding; `None` when the fields up to the action are not a version-1 encoding.
pub fn peek<'a>(encoding: &'a [u8], action: &str) -> Option<Peek<'a>> {
    let mut c = Cursor(encoding);
    if c.take(1)? != [ENCODING_VERSION] {
        return None;
    }
    let seq = i64::from_be_bytes(c.take(8)?.try_into().ok()?);
    let at = c.text()??;
    let kind = c.text()??;
    for _ in 0..9 {
        c.text()?;
    }
    let categories = u32::from_be_bytes(c.take(4)?.try_into().ok()?);
    for _ in 0..categories {
        c.text()??;
    }
    for _ in 0..6 {
        c.text()?;
    }
    let act = c.text()?;
    Some(Peek {
        seq,
        at,
        checkpoint: kind == b"admin" && act == Some(action.as_bytes()),
    })
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (part, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(part)
    }

    /// `Some(None)` for an absent text.
    fn text(&mut self) -> Option<Option<&'a [u8]>> {
        match u32::from_be_bytes(self.take(4)?.try_into().ok()?) {
            u32::MAX => Some(None),
            len => self.take(len as usize).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::chain::{Entry, Kind, Record, GENESIS};

    #[test]
    fn a_bundle_splits_into_the_encodings_it_packed_and_peeks_read_them() {
        let mut admin = Entry::new(Kind::Admin);
        admin.action = Some("log.checkpoint".into());
        admin.categories = vec!["a".into(), "b".into()];
        let records = [
            Record::chain(Entry::new(Kind::Disclosure), 1, "t1".into(), &GENESIS),
            Record::chain(admin, 2, "t2".into(), &GENESIS),
        ];
        let encodings: Vec<Vec<u8>> = records.iter().map(Record::encode).collect();
        let data = pack(encodings.iter().map(Vec::as_slice));
        let parts = split(&data).unwrap();
        assert_eq!(parts, encodings.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let peeks: Vec<Peek> = parts.iter().map(|p| peek(p, "log.checkpoint").unwrap()).collect();
        assert_eq!((peeks[0].seq, peeks[0].at, peeks[0].checkpoint), (1, &b"t1"[..], false));
        assert_eq!((peeks[1].seq, peeks[1].at, peeks[1].checkpoint), (2, &b"t2"[..], true));
        assert!(split(&data[..data.len() - 1]).is_none());
        assert!(peek(&encodings[0][..20], "log.checkpoint").is_none());
        let zstd = compress(&data).unwrap();
        assert!(zstd.len() < data.len());
        assert_eq!(open(Codec::Zstd.code(), &zstd).unwrap(), &data[..]);
        assert_eq!(open(Codec::Raw.code(), &data).unwrap(), &data[..]);
        assert_eq!(open_with(Codec::Zstd.code(), &zstd, <[u8]>::to_vec).unwrap(), data);
    }

    #[test]
    fn a_bundle_that_does_not_open_as_its_codec_says_is_refused() {
        let data = pack([&b"record"[..]]);
        let zstd = compress(&data).unwrap();
        assert!(open(Codec::Zstd.code(), &data).is_none(), "raw bytes are not a frame");
        assert!(open(7, &zstd).is_none(), "an unknown codec");
        assert!(
            open(Codec::Zstd.code(), &zstd[..zstd.len() - 1]).is_none(),
            "a frame cut short"
        );
        let mut twice = zstd.clone();
        twice.extend_from_slice(&zstd);
        assert!(
            open(Codec::Zstd.code(), &twice).is_none(),
            "more than the frame says it holds"
        );
        // A frame that claims more than a bundle may hold is refused before anything is unpacked.
        let big = zstd::bulk::compress(&vec![0u8; (MAX_UNPACKED + 1) as usize], 1).unwrap();
        assert!(open(Codec::Zstd.code(), &big).is_none());
    }
}
