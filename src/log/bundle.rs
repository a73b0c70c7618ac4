//! Entry bundles: how records are stored. The records one transaction appends are kept as a few rows of
//! `log_bundles`, each holding up to [`MAX_RECORDS`] consecutive encodings `E(r)` back to back, every one preceded by
//! its length (u32, big endian): the bytes the Merkle tree's leaves hash, so verification hashes what it reads.
//! Pure code: no I/O. `docs/log-encoding.md` defines the layout for outside verifiers.
use super::chain::ENCODING_VERSION;

/// Records per bundle at most: a single record is read by reading its bundle, so bundles stay small.
pub const MAX_RECORDS: usize = 64;

/// Encodings back to back, each after its length.
pub fn pack<'a>(encodings: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in encodings {
        out.extend_from_slice(&(e.len() as u32).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// The encodings a bundle holds, in order; `None` when its bytes are not a sequence of length-prefixed parts.
pub fn split(mut data: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (len, rest) = data.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        let (part, rest) = (rest.get(..len)?, rest.get(len..)?);
        out.push(part);
        data = rest;
    }
    Some(out)
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
    }
}
