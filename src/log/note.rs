//! Checkpoints as C2SP signed notes (`c2sp.org/signed-note`, `c2sp.org/tlog-checkpoint`) and witness cosignatures
//! (`c2sp.org/tlog-cosignature`, v1). Pure code over bytes; keys are Ed25519.
//!
//! A checkpoint body is `origin\nsize\nbase64(root)\n`; the note is the body, a blank line and one signature line
//! `— name base64(key_id ‖ signature)` per signer, with `key_id` the first four bytes of
//! `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)` and the signature over the body. A cosignature signs
//! `cosignature/v1\ntime T\n` followed by the body and carries `key_id ‖ T (u64 BE) ‖ signature`, its key id made
//! with type byte 0x04.
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::digest;
use ring::signature::{UnparsedPublicKey, ED25519};

use super::merkle::Hash;

const SIGNATURE_TYPE: u8 = 0x01;
const COSIGNATURE_TYPE: u8 = 0x04;

/// What a checkpoint commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The signed part of the note.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root))
    }

    /// Reads a note's body; `None` unless it has the three lines of a checkpoint (extension lines are refused).
    pub fn parse_body(body: &str) -> Option<Checkpoint> {
        let mut lines = body.strip_suffix('\n')?.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty())?.to_owned();
        let size_text = lines.next()?;
        let size: u64 = size_text
            .parse()
            .ok()
            .filter(|_| size_text.bytes().all(|b| b.is_ascii_digit()))?;
        let root: Hash = STANDARD.decode(lines.next()?).ok()?.try_into().ok()?;
        lines.next().is_none().then_some(Checkpoint { origin, size, root })
    }
}

fn key_id(name: &str, kind: u8, public_key: &[u8]) -> [u8; 4] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(b"\n");
    ctx.update(&[kind]);
    ctx.update(public_key);
    let d = ctx.finish();
    let mut id = [0u8; 4];
    id.copy_from_slice(d.as_ref().get(..4).unwrap_or(&[0; 4]));
    id
}

/// A signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub name: String,
    pub blob: Vec<u8>,
}

impl Line {
    pub fn text(&self) -> String {
        format!("— {} {}\n", self.name, STANDARD.encode(&self.blob))
    }

    pub fn parse(line: &str) -> Option<Line> {
        let rest = line.strip_prefix("— ")?.trim_end_matches('\n');
        let (name, blob) = rest.rsplit_once(' ')?;
        if name.is_empty() || name.contains(' ') || name.contains('+') {
            return None;
        }
        Some(Line {
            name: name.to_owned(),
            blob: STANDARD.decode(blob).ok()?,
        })
    }
}

/// The signature line of `name` (public key `public_key`) over `body`, given `sign`.
pub fn signature_line(name: &str, public_key: &[u8], body: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> Line {
    let mut blob = key_id(name, SIGNATURE_TYPE, public_key).to_vec();
    blob.extend(sign(body.as_bytes()));
    Line {
        name: name.to_owned(),
        blob,
    }
}

/// A note: body, blank line, signature lines.
pub fn note(body: &str, lines: &[Line]) -> String {
    let mut out = format!("{body}\n");
    for l in lines {
        out.push_str(&l.text());
    }
    out
}

/// Splits a note into body and signature lines; `None` if it is not one.
pub fn split(note: &str) -> Option<(String, Vec<Line>)> {
    let (body, signatures) = note.split_once("\n\n")?;
    let lines = signatures
        .split_inclusive('\n')
        .map(Line::parse)
        .collect::<Option<Vec<_>>>()?;
    (!lines.is_empty() && signatures.ends_with('\n')).then(|| (format!("{body}\n"), lines))
}

/// Whether `line` is `name`'s valid signature over `body` with `public_key`.
pub fn verify_line(body: &str, line: &Line, name: &str, public_key: &[u8]) -> bool {
    let Some((id, sig)) = line.blob.split_first_chunk::<4>() else {
        return false;
    };
    line.name == name
        && *id == key_id(name, SIGNATURE_TYPE, public_key)
        && UnparsedPublicKey::new(&ED25519, public_key)
            .verify(body.as_bytes(), sig)
            .is_ok()
}

/// The checkpoint of a note signed by `name` with `public_key`; `None` unless one of its lines is that signature.
pub fn open(note: &str, name: &str, public_key: &[u8]) -> Option<Checkpoint> {
    let (body, lines) = split(note)?;
    let checkpoint = Checkpoint::parse_body(&body)?;
    lines
        .iter()
        .any(|l| verify_line(&body, l, name, public_key))
        .then_some(checkpoint)
}

fn cosigned_message(body: &str, time: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{body}").into_bytes()
}

/// A witness's cosignature line over `body` at `time` (seconds since the epoch).
pub fn cosignature_line(name: &str, public_key: &[u8], body: &str, time: u64, sign: impl Fn(&[u8]) -> Vec<u8>) -> Line {
    let mut blob = key_id(name, COSIGNATURE_TYPE, public_key).to_vec();
    blob.extend(time.to_be_bytes());
    blob.extend(sign(&cosigned_message(body, time)));
    Line {
        name: name.to_owned(),
        blob,
    }
}

/// The time of `line` when it is `name`'s valid cosignature over `body` with `public_key`.
pub fn verify_cosignature(body: &str, line: &Line, name: &str, public_key: &[u8]) -> Option<u64> {
    let (id, rest) = line.blob.split_first_chunk::<4>()?;
    let (time, sig) = rest.split_first_chunk::<8>()?;
    let time = u64::from_be_bytes(*time);
    (line.name == name
        && *id == key_id(name, COSIGNATURE_TYPE, public_key)
        && sig.len() == 64
        && UnparsedPublicKey::new(&ED25519, public_key)
            .verify(&cosigned_message(body, time), sig)
            .is_ok())
    .then_some(time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{Ed25519KeyPair, KeyPair as _};

    fn pair() -> Ed25519KeyPair {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    #[test]
    fn a_signed_checkpoint_opens_only_with_its_key_and_body() {
        let key = pair();
        let public = key.public_key().as_ref().to_vec();
        let c = Checkpoint {
            origin: "doelpoort/00000099000000000006".into(),
            size: 42,
            root: [7; 32],
        };
        let body = c.body();
        let line = signature_line("doelpoort/00000099000000000006", &public, &body, |m| {
            key.sign(m).as_ref().to_vec()
        });
        let text = note(&body, &[line]);
        assert!(text.starts_with("doelpoort/00000099000000000006\n42\nBwcH"));
        assert_eq!(open(&text, "doelpoort/00000099000000000006", &public), Some(c.clone()));
        assert_eq!(open(&text, "other", &public), None);
        assert_eq!(
            open(&text, "doelpoort/00000099000000000006", pair().public_key().as_ref()),
            None
        );
        let altered = text.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(open(&altered, "doelpoort/00000099000000000006", &public), None);
    }

    #[test]
    fn a_cosignature_carries_its_time_and_binds_the_body() {
        let key = pair();
        let public = key.public_key().as_ref().to_vec();
        let body = "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let line = cosignature_line("witness.politie", &public, body, 1_700_000_000, |m| {
            key.sign(m).as_ref().to_vec()
        });
        let parsed = Line::parse(&line.text()).unwrap();
        assert_eq!(
            verify_cosignature(body, &parsed, "witness.politie", &public),
            Some(1_700_000_000)
        );
        assert_eq!(
            verify_cosignature("o\n2\nx\n", &parsed, "witness.politie", &public),
            None
        );
    }
}
