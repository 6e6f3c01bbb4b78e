//! Which token pairs may not take a place in a head's lists.

use glossa_index::{fold, normalize};
use glossa_vocab::Vocabulary;

/// The seed's `exclude_same` and `exclude_fuzzy`, applied before selection.
///
/// - same: the two tokens are the same token, or have the same text once case
///   and the word-initial marker are ignored (`Dieta` / ` dieta`);
/// - fuzzy: near-identical forms. After normalising (as above) and folding
///   diacritics (`dietą` → `dieta`, `Łódź` → `lodz`), the forms are equal, or
///   share a prefix of at least 3 characters that covers at least 3/4 of the
///   longer form (`dieta` / `diety`, `łódź` / `łodzi`, `kot` / `kota`), so
///   inflections of one word do not crowd a list while `do` / `dom` stay
///   distinct.
pub(crate) struct PairFilter {
    same: Option<Vec<u32>>,
    fuzzy: Option<Vec<Vec<char>>>,
}

impl PairFilter {
    pub(crate) fn new(
        vocabulary: &Vocabulary,
        exclude_same: bool,
        exclude_fuzzy: bool,
    ) -> PairFilter {
        let same = exclude_same.then(|| {
            // Tokens with equal normalised text share a class id.
            let mut classes = std::collections::HashMap::new();
            vocabulary
                .tokens()
                .iter()
                .map(|t| {
                    let next = classes.len() as u32;
                    *classes.entry(normalize(&t.text)).or_insert(next)
                })
                .collect()
        });
        let fuzzy = exclude_fuzzy.then(|| {
            vocabulary
                .tokens()
                .iter()
                .map(|t| fold(&t.text).chars().collect())
                .collect()
        });
        PairFilter { same, fuzzy }
    }

    /// Whether any exclusion is on.
    pub(crate) fn is_active(&self) -> bool {
        self.same.is_some() || self.fuzzy.is_some()
    }

    /// Every excluded pair of the first `tokens` tokens whose src and dst
    /// are both `allowed`, each once, in (src, dst) order.
    ///
    /// Without scanning all pairs: a pair is only excluded if its tokens are
    /// the same, have the same normalised text (same class), or, for fuzzy,
    /// equal folded forms or a shared folded prefix of at least 3
    /// characters. So tokens are grouped by class, or by the first 3
    /// characters of their folded form (the whole form when shorter), and
    /// only pairs within a group are asked.
    pub(crate) fn excluded_pairs(
        &self,
        tokens: usize,
        allowed: impl Fn(u32) -> bool,
    ) -> Vec<(u32, u32)> {
        if !self.is_active() {
            return Vec::new();
        }
        let mut groups: std::collections::HashMap<GroupKey, Vec<u32>> =
            std::collections::HashMap::new();
        for id in (0..tokens as u32).filter(|&id| allowed(id)) {
            let key = match (&self.fuzzy, &self.same) {
                (Some(forms), _) => {
                    let form = &forms[id as usize];
                    GroupKey::Prefix(form[..form.len().min(3)].to_vec())
                }
                // Active, so without fuzzy there are classes.
                (None, classes) => GroupKey::Class(classes.as_ref().map_or(id, |c| c[id as usize])),
            };
            groups.entry(key).or_default().push(id);
        }
        let mut pairs: Vec<(u32, u32)> = groups
            .values()
            .flat_map(|group| {
                group.iter().flat_map(move |&src| {
                    group
                        .iter()
                        .filter(move |&&dst| self.excludes(src, dst))
                        .map(move |&dst| (src, dst))
                })
            })
            .collect();
        pairs.sort_unstable();
        pairs
    }

    /// Whether the pair (src, dst) is excluded.
    pub(crate) fn excludes(&self, src: u32, dst: u32) -> bool {
        if src == dst && self.is_active() {
            return true;
        }
        if let Some(classes) = &self.same {
            if classes[src as usize] == classes[dst as usize] {
                return true;
            }
        }
        if let Some(forms) = &self.fuzzy {
            return near_identical(&forms[src as usize], &forms[dst as usize]);
        }
        false
    }
}

/// What tokens that may form an excluded pair share.
#[derive(PartialEq, Eq, Hash)]
enum GroupKey {
    /// The first 3 characters of the folded form (all of a shorter one).
    Prefix(Vec<char>),
    /// The class of equal normalised text.
    Class(u32),
}

/// Equal, or sharing a prefix of ≥ 3 characters covering ≥ 3/4 of the longer form.
fn near_identical(a: &[char], b: &[char]) -> bool {
    if a == b {
        return true;
    }
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let longer = a.len().max(b.len());
    common >= 3 && 4 * common >= 3 * longer
}

#[cfg(test)]
mod tests {
    use super::near_identical;

    fn fuzzy(a: &str, b: &str) -> bool {
        let fold = |s: &str| glossa_index::fold(s).chars().collect::<Vec<_>>();
        near_identical(&fold(a), &fold(b))
    }

    #[test]
    fn inflections_are_near_identical() {
        assert!(fuzzy(" dieta", "dietą"));
        assert!(fuzzy(" dieta", " diety"));
        assert!(fuzzy(" Łódź", " łodzi"));
        assert!(fuzzy("kot", "kota"));
    }

    #[test]
    fn different_words_are_not() {
        assert!(!fuzzy(" do", " dom"));
        assert!(!fuzzy(" dieta", " zdrowie"));
        assert!(!fuzzy(" kot", " kotlet"));
    }
}
