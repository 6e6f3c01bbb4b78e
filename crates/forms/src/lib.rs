//! Which tokens are forms of one word? Inflection read from a Hunspell
//! dictionary.
//!
//! A Hunspell dictionary is a word list (`.dic`: each entry a stem and its
//! flags) and an affix file (`.aff`: for each flag, rules that strip and add
//! a suffix or prefix). Every form a stem's suffix rules produce is a form of
//! that stem, its lemma: `dieta/MNn` yields *diety, diecie, dietę, dietą,
//! dietami*, ... A [`Dictionary`] answers both ways: the lemmas of a word
//! ([`Dictionary::lemmas`]) and every form of them ([`Dictionary::family`]),
//! which is what the search index stores beside each token.
//!
//! Prefix rules are left out on purpose: in the dictionaries this serves they
//! derive other words (Polish `nie-` negates: *zdrowy*, *niezdrowy*), they
//! do not inflect one. Affix rules that chain a second suffix (continuation
//! classes) and compounding are not read either; a dictionary using them
//! still gives the forms of their first level.
//!
//! [`DEBIAN_POLISH`] is where Debian's `hunspell-pl` puts the Polish
//! dictionary. Another language is another dictionary: any Hunspell `.aff`
//! and `.dic` pair in UTF-8 or ISO 8859-1/-2.

pub use dictionary::Dictionary;
pub use error::{Error, Result};

mod affix;
mod dictionary;
mod encoding;
mod error;

/// The Polish dictionary of Debian's `hunspell-pl` package (LibreOffice's,
/// from sjp.pl), as a path without its `.aff` / `.dic` extension.
pub const DEBIAN_POLISH: &str = "/usr/share/hunspell/pl_PL";
