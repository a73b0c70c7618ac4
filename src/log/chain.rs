//! The record of the disclosure log, its canonical encoding (version 1) and the hash chain. Pure code: no I/O.
//! `docs/log-encoding.md` defines the same encoding for outside verifiers.
use ring::digest;
use serde::Serialize;
use utoipa::ToSchema;

use super::merkle::{leaf_hash, Hash};

/// Encoding version 1, the first byte of every encoded record.
pub const ENCODING_VERSION: u8 = 1;
/// Domain separation prefix of every record hash.
const HASH_PREFIX: &[u8] = b"doelpoort-log-record-v1";
/// Domain separation prefix of every signed checkpoint message.
const CHECKPOINT_PREFIX: &[u8] = b"doelpoort-log-checkpoint-v1";
/// The `prev_hash` of the first record.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// What happened: a release of case data, a refusal, a hit/no-hit answer, or an administrative action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Disclosure,
    Refusal,
    Lookup,
    Admin,
}

/// A record's decision: every record lets something through (`allow`) except a refusal (`deny`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "allow" => Some(Verdict::Allow),
            "deny" => Some(Verdict::Deny),
            _ => None,
        }
    }
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Disclosure => "disclosure",
            Kind::Refusal => "refusal",
            Kind::Lookup => "lookup",
            Kind::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "disclosure" => Some(Kind::Disclosure),
            "refusal" => Some(Kind::Refusal),
            "lookup" => Some(Kind::Lookup),
            "admin" => Some(Kind::Admin),
            _ => None,
        }
    }
}

/// A record to append: everything but its place in the chain. The subject is already a pseudonym. Its text fields
/// are the record as written — a verifier must read every record, whether or not an id in it still parses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Entry {
    pub kind: Kind,
    pub source_oin: Option<String>,
    pub recipient_oin: Option<String>,
    pub actor_oin: Option<String>,
    pub actor_sub: Option<String>,
    pub case_id: Option<String>,
    pub subject: Option<String>,
    pub meeting_id: Option<String>,
    pub meeting_type: Option<String>,
    pub purpose: Option<String>,
    pub categories: Vec<String>,
    pub covenant_version: Option<String>,
    pub article: Option<String>,
    pub request_id: Option<String>,
    pub content_digest: Option<String>,
    pub decision: Verdict,
    pub reason: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// JSON without personal data (admin records).
    pub detail: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
}

impl Entry {
    /// A record of `kind` with nothing else filled in; its decision follows from the kind (only a refusal denies).
    pub fn new(kind: Kind) -> Entry {
        Entry {
            kind,
            source_oin: None,
            recipient_oin: None,
            actor_oin: None,
            actor_sub: None,
            case_id: None,
            subject: None,
            meeting_id: None,
            meeting_type: None,
            purpose: None,
            categories: Vec::new(),
            covenant_version: None,
            article: None,
            request_id: None,
            content_digest: None,
            decision: if kind == Kind::Refusal {
                Verdict::Deny
            } else {
                Verdict::Allow
            },
            reason: None,
            action: None,
            target: None,
            detail: None,
            trace_id: None,
            span_id: None,
        }
    }

    /// An administrative action by `actor` on `target`.
    pub fn admin(actor_oin: Option<String>, actor_sub: &str, action: &str, target: &str, detail: String) -> Entry {
        Entry {
            actor_oin,
            actor_sub: Some(actor_sub.to_owned()),
            action: Some(action.to_owned()),
            target: Some(target.to_owned()),
            detail: Some(detail),
            ..Entry::new(Kind::Admin)
        }
    }
}

/// The fields of a record, in the order of the canonical encoding (then the two hashes): the column names of
/// `log_records` and the header of a CSV export.
pub const FIELDS: [&str; 26] = [
    "seq",
    "at",
    "kind",
    "source_oin",
    "recipient_oin",
    "actor_oin",
    "actor_sub",
    "case_id",
    "subject",
    "meeting_id",
    "meeting_type",
    "purpose",
    "categories",
    "covenant_version",
    "article",
    "request_id",
    "content_digest",
    "decision",
    "reason",
    "action",
    "target",
    "detail",
    "trace_id",
    "span_id",
    "prev_hash",
    "hash",
];

/// A record in the chain: an entry with its place (sequence number and commit time) and its hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Record {
    pub seq: i64,
    /// RFC 3339, UTC, microseconds.
    pub at: String,
    #[serde(flatten)]
    pub entry: Entry,
    /// Hash of the previous record, hex.
    pub prev_hash: String,
    /// This record's hash, hex.
    pub hash: String,
}

impl Record {
    /// Places `entry` after the record with hash `prev` at position `seq`.
    pub fn chain(entry: Entry, seq: i64, at: String, prev: &[u8; 32]) -> Record {
        Record::chained(entry, seq, at, prev).0
    }

    /// As [`Record::chain`], with the record's encoding and its leaf in the Merkle tree, all from one encoding.
    pub fn chained(entry: Entry, seq: i64, at: String, prev: &[u8; 32]) -> (Record, Vec<u8>, Hash) {
        let mut r = Record {
            seq,
            at,
            entry,
            prev_hash: hex::encode(prev),
            hash: String::new(),
        };
        let encoding = r.encode();
        r.hash = hex::encode(chain_hash(prev, &encoding));
        let leaf = leaf_hash(&encoding);
        (r, encoding, leaf)
    }

    /// The record an encoding holds, placed after the record with hash `prev`; `None` unless `encoding` is one
    /// version-1 encoding.
    pub fn decoded(encoding: &[u8], prev: &[u8; 32]) -> Option<Record> {
        let (seq, at, entry) = decode(encoding)?;
        Some(Record {
            seq,
            at,
            entry,
            prev_hash: hex::encode(prev),
            hash: hex::encode(chain_hash(prev, encoding)),
        })
    }

    /// Every field in [`FIELDS`] order as text, `None` when absent; `categories` as its JSON text.
    pub fn stored_fields(&self) -> [Option<String>; 26] {
        let e = &self.entry;
        [
            Some(self.seq.to_string()),
            Some(self.at.clone()),
            Some(e.kind.as_str().to_owned()),
            e.source_oin.clone(),
            e.recipient_oin.clone(),
            e.actor_oin.clone(),
            e.actor_sub.clone(),
            e.case_id.clone(),
            e.subject.clone(),
            e.meeting_id.clone(),
            e.meeting_type.clone(),
            e.purpose.clone(),
            Some(serde_json::to_string(&e.categories).unwrap_or_else(|_| "[]".into())),
            e.covenant_version.clone(),
            e.article.clone(),
            e.request_id.clone(),
            e.content_digest.clone(),
            Some(e.decision.as_str().to_owned()),
            e.reason.clone(),
            e.action.clone(),
            e.target.clone(),
            e.detail.clone(),
            e.trace_id.clone(),
            e.span_id.clone(),
            Some(self.prev_hash.clone()),
            Some(self.hash.clone()),
        ]
    }

    /// The canonical encoding (version 1) of everything but the two hashes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.push(ENCODING_VERSION);
        out.extend_from_slice(&self.seq.to_be_bytes());
        text(&mut out, Some(&self.at));
        let e = &self.entry;
        text(&mut out, Some(e.kind.as_str()));
        for field in [
            &e.source_oin,
            &e.recipient_oin,
            &e.actor_oin,
            &e.actor_sub,
            &e.case_id,
            &e.subject,
            &e.meeting_id,
            &e.meeting_type,
            &e.purpose,
        ] {
            text(&mut out, field.as_deref());
        }
        out.extend_from_slice(&(e.categories.len() as u32).to_be_bytes());
        for c in &e.categories {
            text(&mut out, Some(c));
        }
        for field in [&e.covenant_version, &e.article, &e.request_id, &e.content_digest] {
            text(&mut out, field.as_deref());
        }
        text(&mut out, Some(e.decision.as_str()));
        for field in [&e.reason, &e.action, &e.target, &e.detail, &e.trace_id, &e.span_id] {
            text(&mut out, field.as_deref());
        }
        out
    }

    /// SHA-256(prefix ‖ prev ‖ encoding).
    pub fn compute_hash(&self, prev: &[u8; 32]) -> [u8; 32] {
        chain_hash(prev, &self.encode())
    }
}

/// The chain hash of the record encoded as `encoding` after the record with hash `prev`.
pub fn chain_hash(prev: &[u8; 32], encoding: &[u8]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(HASH_PREFIX);
    ctx.update(prev);
    ctx.update(encoding);
    to_array(ctx.finish().as_ref())
}

/// A text field: 0xFFFFFFFF for absent, otherwise its UTF-8 length (u32, big endian) and bytes.
fn text(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.extend_from_slice(&u32::MAX.to_be_bytes()),
        Some(v) => {
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v.as_bytes());
        }
    }
}

/// Reads an encoding back into its sequence number, time and entry: the inverse of [`Record::encode`], and what
/// an outside verifier needs to read the encoding. `None` unless `bytes` is exactly one version-1 encoding.
pub fn decode(bytes: &[u8]) -> Option<(i64, String, Entry)> {
    let mut r = Reader { bytes, pos: 0 };
    if r.take(1)? != [ENCODING_VERSION] {
        return None;
    }
    let seq = i64::from_be_bytes(r.take(8)?.try_into().ok()?);
    let at = r.text()??;
    let kind = Kind::parse(&r.text()??)?;
    let mut parties: [Option<String>; 9] = Default::default();
    for field in &mut parties {
        *field = r.text()?;
    }
    let count = r.u32()? as usize;
    let mut categories = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        categories.push(r.text()??);
    }
    let mut refs: [Option<String>; 4] = Default::default();
    for field in &mut refs {
        *field = r.text()?;
    }
    let decision = Verdict::parse(&r.text()??)?;
    let mut rest: [Option<String>; 6] = Default::default();
    for field in &mut rest {
        *field = r.text()?;
    }
    if r.pos != bytes.len() {
        return None;
    }
    let [source_oin, recipient_oin, actor_oin, actor_sub, case_id, subject, meeting_id, meeting_type, purpose] =
        parties;
    let [covenant_version, article, request_id, content_digest] = refs;
    let [reason, action, target, detail, trace_id, span_id] = rest;
    let entry = Entry {
        kind,
        source_oin,
        recipient_oin,
        actor_oin,
        actor_sub,
        case_id,
        subject,
        meeting_id,
        meeting_type,
        purpose,
        categories,
        covenant_version,
        article,
        request_id,
        content_digest,
        decision,
        reason,
        action,
        target,
        detail,
        trace_id,
        span_id,
    };
    Some((seq, at, entry))
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let part = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(part)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    /// `Some(None)` for an absent text, `None` when the bytes are not a text.
    fn text(&mut self) -> Option<Option<String>> {
        match self.u32()? {
            u32::MAX => Some(None),
            len => Some(Some(String::from_utf8(self.take(len as usize)?.to_vec()).ok()?)),
        }
    }
}

/// The message a checkpoint signs: prefix ‖ seq (i64 BE) ‖ head hash ‖ time (length-prefixed text).
pub fn checkpoint_message(seq: i64, head_hash: &[u8; 32], at: &str) -> Vec<u8> {
    let mut out = CHECKPOINT_PREFIX.to_vec();
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(head_hash);
    text(&mut out, Some(at));
    out
}

pub fn to_array(bytes: &[u8]) -> [u8; 32] {
    let mut a = [0u8; 32];
    if bytes.len() == 32 {
        a.copy_from_slice(bytes);
    }
    a
}

/// Parses a hex hash; `None` unless it is 32 bytes.
pub fn parse_hash(hex_text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(hex_text).ok()?;
    (bytes.len() == 32).then(|| to_array(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8) -> Entry {
        Entry {
            source_oin: Some("00000099000000000005".into()),
            recipient_oin: Some("00000099000000000001".into()),
            categories: vec!["leefgebieden".into(), format!("c{n}")],
            ..Entry::new(Kind::Disclosure)
        }
    }

    #[test]
    fn every_field_and_the_predecessor_change_the_hash() {
        let a = Record::chain(entry(1), 1, "2026-01-01T00:00:00.000000Z".into(), &GENESIS);
        let b = Record::chain(
            entry(1),
            2,
            "2026-01-01T00:00:00.000000Z".into(),
            &parse_hash(&a.hash).unwrap(),
        );
        assert_ne!(a.hash, b.hash);
        let mut altered = a.clone();
        altered.entry.categories.push("x".into());
        assert_ne!(hex::encode(altered.compute_hash(&GENESIS)), a.hash);
        let mut moved = a.clone();
        moved.entry.reason = Some("x".into());
        assert_ne!(hex::encode(moved.compute_hash(&GENESIS)), a.hash);
        // Absent and empty differ.
        let mut empty = a.clone();
        empty.entry.reason = Some(String::new());
        assert_ne!(empty.encode(), a.encode());
        assert_eq!(hex::encode(a.compute_hash(&GENESIS)), a.hash);
    }
}
