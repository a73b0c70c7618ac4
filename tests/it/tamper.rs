//! What an attacker with write access to the database can do to the log's records, which are stored as entry
//! bundles: the tests that check verification and the start-up check name each attack use these.
use crate::helpers::Gateway;
use doelpoort::log::bundle;
use doelpoort::log::chain::{decode, Entry, Record};
use doelpoort::log::packed::{self, Bundle};

/// A pool on the gateway's database, as an attacker with its URL has.
pub async fn pool(gw: &Gateway) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&gw.app().config.database_url).await.unwrap()
}

/// Runs one SQL statement on the gateway's database.
pub async fn raw(gw: &Gateway, sql: &str) {
    let pool = pool(gw).await;
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

async fn bundle_of(gw: &Gateway, seq: i64) -> Bundle {
    let pool = pool(gw).await;
    let b = packed::holding(&pool, seq)
        .await
        .unwrap()
        .expect("a bundle holds the record");
    pool.close().await;
    b
}

fn parts(b: &Bundle) -> Vec<Vec<u8>> {
    bundle::split(&b.packed().unwrap())
        .unwrap()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect()
}

/// Stores `parts` as the bundle that starts at `first` (its range following them), or drops it when empty.
async fn put(gw: &Gateway, first: i64, parts: &[Vec<u8>]) {
    let pool = pool(gw).await;
    if parts.is_empty() {
        sqlx::query("DELETE FROM log_bundles WHERE first_seq = $1")
            .bind(first)
            .execute(&pool)
            .await
            .unwrap();
    } else {
        sqlx::query("UPDATE log_bundles SET data = $1, codec = 1, last_seq = $2 WHERE first_seq = $3")
            .bind(packed(parts))
            .bind(first + parts.len() as i64 - 1)
            .bind(first)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

/// `parts` as the data of a compressed bundle, as the gateway writes them.
fn packed(parts: &[Vec<u8>]) -> Vec<u8> {
    bundle::compress(&bundle::pack(parts.iter().map(Vec::as_slice))).unwrap()
}

/// The encoding of `entry` at `seq` and time `at`.
fn encode(seq: i64, at: String, entry: Entry) -> Vec<u8> {
    Record {
        seq,
        at,
        entry,
        prev_hash: String::new(),
        hash: String::new(),
    }
    .encode()
}

/// Changes record `seq` in place.
pub async fn alter(gw: &Gateway, seq: i64, change: impl FnOnce(&mut Entry)) {
    let b = bundle_of(gw, seq).await;
    let mut parts = parts(&b);
    let i = (seq - b.first_seq) as usize;
    let (s, at, mut entry) = decode(&parts[i]).unwrap();
    change(&mut entry);
    parts[i] = encode(s, at, entry);
    put(gw, b.first_seq, &parts).await;
}

/// Takes record `seq` out of its bundle.
pub async fn remove(gw: &Gateway, seq: i64) {
    let b = bundle_of(gw, seq).await;
    let mut parts = parts(&b);
    parts.remove((seq - b.first_seq) as usize);
    put(gw, b.first_seq, &parts).await;
}

/// Puts records `a` and `b` in each other's place.
pub async fn swap(gw: &Gateway, a: i64, b: i64) {
    let (ba, bb) = (bundle_of(gw, a).await, bundle_of(gw, b).await);
    let (ia, ib) = ((a - ba.first_seq) as usize, (b - bb.first_seq) as usize);
    if ba.first_seq == bb.first_seq {
        let mut p = parts(&ba);
        p.swap(ia, ib);
        put(gw, ba.first_seq, &p).await;
    } else {
        let (mut pa, mut pb) = (parts(&ba), parts(&bb));
        std::mem::swap(&mut pa[ia], &mut pb[ib]);
        put(gw, ba.first_seq, &pa).await;
        put(gw, bb.first_seq, &pb).await;
    }
}

/// Appends a copy of record `seq` as record `new_seq`, in a bundle of its own, behind the head's back.
pub async fn copy_to(gw: &Gateway, seq: i64, new_seq: i64) {
    let b = bundle_of(gw, seq).await;
    let (_, at, entry) = decode(&parts(&b)[(seq - b.first_seq) as usize]).unwrap();
    let pool = pool(gw).await;
    sqlx::query("INSERT INTO log_bundles (first_seq, last_seq, at, prev, codec, data) VALUES ($1, $1, $2, $3, 1, $4)")
        .bind(new_seq)
        .bind(&at)
        .bind(vec![0u8; 32])
        .bind(packed(&[encode(new_seq, at.clone(), entry)]))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Drops every record after `keep` (bundles and their postings); the head, tree and notes are left as they are.
pub async fn truncate(gw: &Gateway, keep: i64) {
    let b = bundle_of(gw, keep).await;
    let mut p = parts(&b);
    p.truncate((keep - b.first_seq + 1) as usize);
    put(gw, b.first_seq, &p).await;
    raw(gw, &format!("DELETE FROM log_bundles WHERE first_seq > {keep}")).await;
    raw(gw, &format!("DELETE FROM log_postings WHERE bundle > {keep}")).await;
}
