//! A Hunspell dictionary read for its inflection: lemmas and their forms.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::affix::{Affixes, Flag, FlagMode};
use crate::encoding::{declared_set, decode};
use crate::error::{Error, Result};

/// A Hunspell word list and its suffix rules, every word lowercased: search
/// ignores case, so *Łódź* (the city) and *łódź* (a boat) are one lemma here.
#[derive(Debug)]
pub struct Dictionary {
    affixes: Affixes,
    /// Every entry's flags, by its lowercased stem (homonyms: several).
    entries: HashMap<Vec<char>, Vec<Vec<Flag>>>,
}

impl Dictionary {
    /// Reads `PATH.aff` and `PATH.dic` (`path` is the dictionary's name
    /// without an extension, as Hunspell takes it), in the character set the
    /// affix file declares.
    pub fn open(path: &Path) -> Result<Dictionary> {
        let file = |extension: &str| -> (PathBuf, Result<Vec<u8>>) {
            let mut name = path.as_os_str().to_owned();
            name.push(extension);
            let file = PathBuf::from(name);
            let bytes = std::fs::read(&file).map_err(|source| Error::Read {
                path: file.clone(),
                source,
            });
            (file, bytes)
        };
        let (aff_path, aff) = file(".aff");
        let aff = aff?;
        let (dic_path, dic) = file(".dic");
        let dic = dic?;
        let set = declared_set(&aff).unwrap_or_else(|| "ISO8859-1".into());
        let text = |bytes: &[u8], path: &Path| {
            decode(bytes, &set).ok_or_else(|| Error::Encoding {
                path: path.to_path_buf(),
                set: set.clone(),
            })
        };
        let (aff, dic) = (text(&aff, &aff_path)?, text(&dic, &dic_path)?);
        Dictionary::parse(&aff, &dic).map_err(|(in_dic, line, reason)| Error::Malformed {
            path: if in_dic { dic_path } else { aff_path },
            line,
            reason,
        })
    }

    /// A dictionary from the texts of its affix file and word list; on
    /// failure, whether the word list is at fault, the line, and what is
    /// wrong.
    pub(crate) fn parse(
        aff: &str,
        dic: &str,
    ) -> std::result::Result<Dictionary, (bool, usize, String)> {
        let affixes = Affixes::parse(aff).map_err(|(line, reason)| (false, line, reason))?;
        let mode = affixes.mode.unwrap_or(FlagMode::Char);
        let mut entries: HashMap<Vec<char>, Vec<Vec<Flag>>> = HashMap::new();
        // The first line is the entry count, a hint only.
        for (index, line) in dic.lines().enumerate().skip(1) {
            // Morphological fields may follow the entry after white space.
            let Some(entry) = line.split_whitespace().next() else {
                continue;
            };
            let (word, flags) = match entry.split_once('/') {
                Some((word, flags)) => (word, flags),
                None => (entry, ""),
            };
            let flags = mode
                .parse(flags)
                .map_err(|reason| (true, index + 1, reason))?;
            entries
                .entry(word.to_lowercase().chars().collect())
                .or_default()
                .push(flags);
        }
        Ok(Dictionary { affixes, entries })
    }

    /// The lemmas `word` (lowercase) is a form of: every entry that is the
    /// word itself, or that one of its suffix rules turns into it. Empty for
    /// a word the dictionary does not know.
    pub fn lemmas(&self, word: &str) -> Vec<String> {
        let word: Vec<char> = word.chars().collect();
        let mut lemmas = BTreeSet::new();
        if self.flagged(&word, |flags| self.is_word(flags)) {
            lemmas.insert(word.clone());
        }
        for cut in 0..=word.len() {
            let Some(rules) = self.affixes.by_add.get(&word[cut..]) else {
                continue;
            };
            for &id in rules {
                let rule = &self.affixes.suffixes[id];
                if let Some(stem) = rule.unapply(&word) {
                    if self.flagged(&stem, |flags| self.allows(flags, rule.flag)) {
                        lemmas.insert(stem);
                    }
                }
            }
        }
        lemmas
            .into_iter()
            .map(|l| l.into_iter().collect())
            .collect()
    }

    /// Every form of every lemma of `word`, `word` among them when the
    /// dictionary knows it; sorted, each once.
    pub fn family(&self, word: &str) -> Vec<String> {
        let mut forms = BTreeSet::new();
        for lemma in self.lemmas(word) {
            let lemma: Vec<char> = lemma.chars().collect();
            for flags in self.entries.get(&lemma).into_iter().flatten() {
                if self.is_word(flags) {
                    forms.insert(lemma.clone());
                }
                for flag in flags {
                    for &id in self.affixes.by_flag.get(flag).into_iter().flatten() {
                        forms.extend(self.affixes.suffixes[id].apply(&lemma));
                    }
                }
            }
        }
        forms.into_iter().map(|f| f.into_iter().collect()).collect()
    }

    /// Whether some entry spelled `stem` has flags that pass `test`.
    fn flagged(&self, stem: &[char], test: impl Fn(&[Flag]) -> bool) -> bool {
        self.entries
            .get(stem)
            .is_some_and(|all| all.iter().any(|flags| test(flags)))
    }

    /// Whether an entry with `flags` is a word as it stands.
    fn is_word(&self, flags: &[Flag]) -> bool {
        let has = |flag: Option<Flag>| flag.is_some_and(|f| flags.contains(&f));
        !has(self.affixes.need_affix) && !has(self.affixes.forbidden)
    }

    /// Whether an entry with `flags` takes the rules of `flag`.
    fn allows(&self, flags: &[Flag], flag: Flag) -> bool {
        flags.contains(&flag)
            && !self
                .affixes
                .forbidden
                .is_some_and(|forbidden| flags.contains(&forbidden))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few of hunspell-pl's rules for *dieta* (flags M, N, n), as its
    /// affix file spells them.
    const AFF: &str = "SET UTF-8\n\
        SFX M Y 3\n\
        SFX M   a         y          [^ikl]a\n\
        SFX M   a         ę          a\n\
        SFX M   a         ą          a\n\
        SFX N Y 1\n\
        SFX N   ta        cie        [aeiouy]ta\n\
        SFX n Y 2\n\
        SFX n   a         ami        a\n\
        SFX n   a         om         a\n\
        NEEDAFFIX X\n";

    const DIC: &str = "3\ndieta/MNn\nDieta/M\nkuźnia/X\n";

    fn dictionary() -> Dictionary {
        Dictionary::parse(AFF, DIC).expect("parses")
    }

    #[test]
    fn forms_and_lemmas_answer_each_other() {
        let dictionary = dictionary();
        let family = dictionary.family("diecie");
        assert_eq!(
            family,
            ["diecie", "dieta", "dietami", "dietom", "diety", "dietą", "dietę"]
        );
        for form in &family {
            assert_eq!(dictionary.lemmas(form), ["dieta"], "{form}");
        }
        assert!(dictionary.lemmas("dietach").is_empty(), "no rule makes it");
        assert!(dictionary.lemmas("kuźnia").is_empty(), "needs an affix");
        assert!(dictionary.family("nic").is_empty());
    }
}
