//! Sets of era indices kept as sorted, disjoint ranges: a validator's active
//! eras are mostly runs, so years of history stay a few numbers.

use serde::{Deserialize, Serialize};

/// A set of eras.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EraSet(Vec<(u32, u32)>);

impl EraSet {
    /// Add one era (idempotent).
    pub fn insert(&mut self, era: u32) {
        let i = self.0.partition_point(|&(_, end)| end.saturating_add(1) < era);
        match self.0.get_mut(i) {
            Some((start, end)) if *start <= era && era <= *end => {}
            Some((start, _)) if era.saturating_add(1) == *start => *start = era,
            Some((_, end)) if *end + 1 == era => {
                *end = era;
                // Join the next range when the gap closed.
                if let Some(&(next_start, next_end)) = self.0.get(i + 1)
                    && next_start == era + 1
                {
                    self.0[i].1 = next_end;
                    self.0.remove(i + 1);
                }
            }
            _ => self.0.insert(i, (era, era)),
        }
    }

    /// Whether `era` is in the set.
    pub fn contains(&self, era: u32) -> bool {
        self.0.iter().any(|&(s, e)| s <= era && era <= e)
    }

    /// Number of eras.
    pub fn len(&self) -> u32 {
        self.0.iter().map(|&(s, e)| e - s + 1).sum()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of eras within `from..=to`.
    pub fn count_within(&self, from: u32, to: u32) -> u32 {
        self.0.iter().map(|&(s, e)| (e.min(to) + 1).saturating_sub(s.max(from))).sum()
    }

    /// The highest era.
    pub fn last(&self) -> Option<u32> {
        self.0.last().map(|&(_, e)| e)
    }

    /// How many eras are in any of `sets`; without building the union for
    /// one set (most identities have one address with eras).
    pub fn union_len<'a>(sets: impl IntoIterator<Item = &'a EraSet>) -> u32 {
        let mut sets = sets.into_iter().filter(|s| !s.is_empty());
        match (sets.next(), sets.next()) {
            (None, _) => 0,
            (Some(one), None) => one.len(),
            (Some(a), Some(b)) => Self::union_of_sorted([a, b].into_iter().chain(sets)).map(|(s, e)| e - s + 1).sum(),
        }
    }

    /// The union of several sets.
    pub fn union<'a>(sets: impl IntoIterator<Item = &'a EraSet>) -> EraSet {
        EraSet(Self::union_of_sorted(sets).collect())
    }

    /// The ranges of the union, in order: each set's ranges are sorted and
    /// disjoint already, so the union is a merge of them (no sort, no copy;
    /// a round computes one per candidate).
    fn union_of_sorted<'a>(sets: impl IntoIterator<Item = &'a EraSet>) -> impl Iterator<Item = (u32, u32)> {
        let mut heads: Vec<std::iter::Peekable<std::iter::Copied<std::slice::Iter<'a, (u32, u32)>>>> =
            sets.into_iter().map(|s| s.0.iter().copied().peekable()).collect();
        let mut open: Option<(u32, u32)> = None;
        std::iter::from_fn(move || {
            loop {
                // The next range by start among every set's next range.
                let next = heads.iter_mut().filter_map(|h| h.peek().copied().map(|r| (r, h))).min_by_key(|(r, _)| *r);
                let Some((range, head)) = next else { return open.take() };
                head.next();
                match open.as_mut() {
                    Some((_, end)) if range.0 <= end.saturating_add(1) => *end = (*end).max(range.1),
                    Some(_) => return open.replace(range),
                    None => open = Some(range),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        #[test]
        fn behaves_like_a_set(eras in proptest::collection::vec(0u32..200, 0..120), from in 0u32..200, span in 0u32..100) {
            let mut set = EraSet::default();
            for e in &eras { set.insert(*e); }
            let model: BTreeSet<u32> = eras.iter().copied().collect();
            prop_assert_eq!(set.len() as usize, model.len());
            prop_assert_eq!(set.last(), model.iter().next_back().copied());
            let to = from + span;
            prop_assert_eq!(set.count_within(from, to) as usize, model.range(from..=to).count());
            for e in 0..200 { prop_assert_eq!(set.contains(e), model.contains(&e)); }
            // Ranges stay sorted, disjoint and non-adjacent.
            for w in set.0.windows(2) { prop_assert!(w[0].1 + 1 < w[1].0); }
        }

        #[test]
        fn union_is_the_set_union(
            a in proptest::collection::vec(0u32..100, 0..50),
            b in proptest::collection::vec(0u32..100, 0..50),
            c in proptest::collection::vec(0u32..100, 0..50),
        ) {
            let (mut x, mut y, mut z) = (EraSet::default(), EraSet::default(), EraSet::default());
            a.iter().for_each(|e| x.insert(*e));
            b.iter().for_each(|e| y.insert(*e));
            c.iter().for_each(|e| z.insert(*e));
            let model: BTreeSet<u32> = a.iter().chain(&b).chain(&c).copied().collect();
            let u = EraSet::union([&x, &y, &z]);
            prop_assert_eq!(u.len() as usize, model.len());
            for e in 0..100 { prop_assert_eq!(u.contains(e), model.contains(&e)); }
            // The same normal form `insert` keeps: sorted, disjoint, non-adjacent.
            for w in u.0.windows(2) { prop_assert!(w[0].1 + 1 < w[1].0); }
            prop_assert_eq!(EraSet::union_len([&x, &y, &z]) as usize, model.len());
            prop_assert_eq!(EraSet::union_len([&x]), x.len());
            prop_assert_eq!(&u, &EraSet::union([&z, &y, &x]));
        }
    }
}
