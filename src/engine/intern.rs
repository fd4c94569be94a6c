//! Interning: each distinct text of an extract (a patient id, a practice code, a product key)
//! stored once, with its hash, and known by a small id from then on.

use std::hash::BuildHasher;

use hashbrown::hash_table::{Entry, HashTable};
use polars::prelude::PlRandomState;

/// Distinct texts and their ids (patients, practices...), each text stored once: the table
/// holds ids into `ids`, and each text's hash is kept, so that the table grows without
/// reading the texts again. A million patients are a million strings, not two million.
#[derive(Default)]
pub(crate) struct Interner {
    pub(crate) ids: Vec<String>,
    hashes: Vec<u64>,
    index: HashTable<u32>,
    state: PlRandomState,
}

impl Interner {
    /// The id of `s`: its own when seen before, else the next.
    pub(crate) fn get(&mut self, s: &str) -> u32 {
        let hash = self.state.hash_one(s);
        let Interner {
            ids, hashes, index, ..
        } = self;
        let found = |&i: &u32| ids[i as usize] == s;
        match index.entry(hash, found, |&i| hashes[i as usize]) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let i = ids.len() as u32;
                e.insert(i);
                ids.push(s.to_string());
                hashes.push(hash);
                i
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids are given in the order texts are first seen, a text seen again gets its id back
    /// however much the table has grown since, and each text is stored once.
    #[test]
    fn interner_ids_are_first_seen_order_and_stable() {
        let mut interner = Interner::default();
        let text = |k: usize| format!("SYN{:07}", k * 7919 % 100_003);
        for k in 0..50_000 {
            assert_eq!(interner.get(&text(k)), k as u32);
        }
        // Near-duplicates are distinct texts.
        let a = interner.get("A81001");
        assert_ne!(interner.get("A81001 "), a);
        assert_ne!(interner.get("a81001"), a);
        for k in (0..50_000).rev() {
            assert_eq!(interner.get(&text(k)), k as u32);
        }
        assert_eq!(interner.get("A81001"), a);
        assert_eq!(interner.ids.len(), 50_003);
        assert_eq!(interner.ids[7], text(7));
        assert_eq!(interner.get(""), 50_003);
    }
}
