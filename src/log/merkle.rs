//! The log's Merkle tree (RFC 6962 §2.1, as RFC 9162 §2.1 restates it): leaf `SHA-256(0x00 ‖ E(r))` for record
//! `seq` at index `seq − 1`, node `SHA-256(0x01 ‖ left ‖ right)`. Pure code: which subtrees a root or a proof
//! needs, how to combine their hashes, and how to check a proof. Where the subtree hashes come from (the tiles)
//! is `tiles`' business.
use ring::digest;

use super::chain::to_array;

pub type Hash = [u8; 32];

/// A complete subtree: `2^level` leaves starting at leaf `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subtree {
    pub level: u32,
    pub index: u64,
}

pub fn leaf_hash(encoding: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[0]);
    ctx.update(encoding);
    to_array(ctx.finish().as_ref())
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[1]);
    ctx.update(left);
    ctx.update(right);
    to_array(ctx.finish().as_ref())
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    to_array(digest::digest(&digest::SHA256, b"").as_ref())
}

/// The largest power of two smaller than `n` (`n ≥ 2`): where RFC 6962 splits a tree of `n` leaves.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The complete subtrees that make up leaves `[lo, hi)`, left to right, for a range that starts on a boundary of
/// its own split (as every range of a root or a proof does); `MTH(D[lo:hi])` is their hashes folded from the right.
pub fn subtrees(lo: u64, hi: u64) -> Vec<Subtree> {
    let mut out = Vec::new();
    let mut at = lo;
    while at < hi {
        let n = hi - at;
        let level = if n.is_power_of_two() {
            n.trailing_zeros()
        } else {
            split(n).trailing_zeros()
        };
        out.push(Subtree {
            level,
            index: at >> level,
        });
        at += 1 << level;
    }
    out
}

/// `MTH` of a range from the hashes of its [`subtrees`], in the same order.
pub fn fold(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |right, left| node_hash(left, &right))
}

/// The ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size` leaves, leaf side first
/// (RFC 6962 §2.1.1 `PATH`).
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    path(index, 0, size, &mut out);
    out
}

fn path(m: u64, lo: u64, hi: u64, out: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, lo, lo + k, out);
        out.push((lo + k, hi));
    } else {
        path(m - k, lo + k, hi, out);
        out.push((lo, lo + k));
    }
}

/// The ranges whose hashes form the consistency proof from a tree of `m` leaves to one of `n` (RFC 6962 §2.1.2
/// `PROOF`); empty when `m` is 0 or `m == n`.
pub fn consistency_ranges(m: u64, n: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if 0 < m && m < n {
        subproof(m, 0, n, true, &mut out);
    }
    out
}

fn subproof(m: u64, lo: u64, hi: u64, whole: bool, out: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if m == n {
        if !whole {
            out.push((lo, hi));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, lo, lo + k, whole, out);
        out.push((lo + k, hi));
    } else {
        subproof(m - k, lo + k, hi, false, out);
        out.push((lo, lo + k));
    }
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Checks a consistency proof from (`m`, `old`) to (`n`, `new`) (RFC 9162 §2.1.4.2).
pub fn verify_consistency(m: u64, n: u64, old: &Hash, new: &Hash, proof: &[Hash]) -> bool {
    if m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && old == new;
    }
    if m == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if m.is_power_of_two() {
        path.insert(0, *old);
    }
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (m - 1, n - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old && sr == *new && s == 0
}

/// The root over `leaves` held in memory (tests, small trees).
pub fn root(leaves: &[Hash]) -> Hash {
    range_hash(leaves, 0, leaves.len() as u64)
}

/// `MTH(D[lo:hi])` over leaves held in memory.
pub fn range_hash(leaves: &[Hash], lo: u64, hi: u64) -> Hash {
    let hashes: Vec<Hash> = subtrees(lo, hi)
        .into_iter()
        .map(|t| {
            let from = (t.index << t.level) as usize;
            complete(leaves.get(from..from + (1 << t.level)).unwrap_or(&[]))
        })
        .collect();
    fold(&hashes)
}

/// The root of a complete subtree over its `2^k` leaf (or node) hashes.
pub fn complete(hashes: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| match p {
                [l, r] => node_hash(l, r),
                [one] => *one,
                _ => empty_root(),
            })
            .collect();
    }
    level.first().copied().unwrap_or_else(empty_root)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962's reference inputs and roots (certificate-transparency's merkle tests).
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect()
    }

    /// RFC 6962's recursive definition, to hold the range arithmetic against.
    fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    fn hashes(d: &[Hash], ranges: &[(u64, u64)]) -> Vec<Hash> {
        ranges
            .iter()
            .map(|&(lo, hi)| mth(&d[lo as usize..hi as usize]))
            .collect()
    }

    #[test]
    fn roots_match_the_reference_vectors() {
        let d: Vec<Hash> = LEAVES.iter().map(|l| leaf_hash(&hex::decode(l).unwrap())).collect();
        for (n, expected) in ROOTS.iter().enumerate() {
            assert_eq!(hex::encode(root(&d[..=n])), *expected, "tree of {}", n + 1);
        }
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn ranges_fold_to_the_recursive_definition() {
        let d = leaves(70);
        for n in 1..=70u64 {
            assert_eq!(root(&d[..n as usize]), mth(&d[..n as usize]), "size {n}");
            for i in 0..n {
                for &(lo, hi) in &inclusion_ranges(i, n) {
                    assert_eq!(range_hash(&d, lo, hi), mth(&d[lo as usize..hi as usize]));
                }
            }
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_a_wrong_one_does_not() {
        let d = leaves(40);
        for n in 1..=40u64 {
            let r = root(&d[..n as usize]);
            for i in 0..n {
                let proof = hashes(&d, &inclusion_ranges(i, n));
                assert!(verify_inclusion(&d[i as usize], i, n, &proof, &r), "leaf {i} of {n}");
                assert!(!verify_inclusion(&d[(i as usize + 1) % 40], i, n, &proof, &r));
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0] = node_hash(first, first);
                    assert!(!verify_inclusion(&d[i as usize], i, n, &bad, &r));
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_a_forked_one_does_not() {
        let d = leaves(40);
        let mut forked = d.clone();
        forked[3] = leaf_hash(b"forged");
        for n in 1..=40u64 {
            let new = root(&d[..n as usize]);
            for m in 1..=n {
                let old = root(&d[..m as usize]);
                let proof = hashes(&d, &consistency_ranges(m, n));
                assert!(verify_consistency(m, n, &old, &new, &proof), "{m} -> {n}");
                if m > 3 && m < n {
                    let other = root(&forked[..m as usize]);
                    assert!(!verify_consistency(m, n, &other, &new, &proof), "fork {m} -> {n}");
                }
            }
        }
    }
}
