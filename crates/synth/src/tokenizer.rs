use std::collections::HashMap;

use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use tokenizers::decoders::byte_level::ByteLevel;
use tokenizers::models::bpe::{BpeTrainer, Vocab, BPE};
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::{AddedToken, TokenizerBuilder, TokenizerImpl};

use crate::error::{Error, Result};

/// GPT-2's document separator. Both tokenizers here give it id
/// [`END_OF_TEXT_ID`] (GPT-2 itself puts it last), which keeps its id the
/// same whatever the vocabulary size.
pub const END_OF_TEXT: &str = "<|endoftext|>";

/// Id of [`END_OF_TEXT`] in the tokenizers of this crate.
pub const END_OF_TEXT_ID: u32 = 0;

/// Words the presets plant units on. The synthetic vocabulary builds them
/// first, so every preset can plant on the same Polish tokens.
pub(crate) const DIET_WORDS: [&str; 5] = [" dieta", " diety", " dietą", " dietę", " diecie"];
pub(crate) const BOAT_WORDS: [&str; 3] = [" łódź", " Łódź", " łodzi"];
pub(crate) const HEALTH_WORD: &str = " zdrowie";
const OTHER_SEED_WORDS: [&str; 8] = [
    " żółw",
    " żółwie",
    " zdrowy",
    " warzywa",
    " owoce",
    " dietetyk",
    " Kraków",
    " Gdańsk",
];

/// Letters with Polish diacritics; each is two bytes in UTF-8 and becomes one
/// token of the synthetic vocabulary.
const POLISH_LETTERS: &str = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ";

/// Syllable parts of the pseudo-Polish words that fill the synthetic vocabulary.
const ONSETS: [&str; 32] = [
    "", "", "b", "c", "cz", "ch", "d", "dz", "dź", "f", "g", "gł", "h", "j", "k", "kr", "l", "ł",
    "m", "n", "p", "pr", "r", "rz", "s", "sz", "ś", "st", "t", "w", "z", "ż",
];
const VOWELS: [&str; 13] = [
    "a", "a", "e", "e", "i", "o", "o", "u", "y", "ą", "ę", "ó", "ie",
];
const CODAS: [&str; 12] = ["", "", "", "", "n", "m", "ł", "ś", "ć", "k", "r", "st"];

pub(crate) type ByteLevelTokenizer =
    TokenizerImpl<BPE, NormalizerWrapper, ByteLevel, ByteLevel, ByteLevel>;

/// Trains a GPT-2 style byte-level BPE tokenizer on `texts` and returns its
/// `tokenizer.json` text.
///
/// The initial alphabet is all 256 byte symbols, so any text can be encoded;
/// `<|endoftext|>` takes id 0, the byte symbols ids 1 to 256 in code-point
/// order, and merges fill the vocabulary up to `vocab_size` entries (fewer if
/// the corpus runs out of pairs). Training is deterministic: the trainer
/// breaks count ties by pair ids, and the JSON lists the vocabulary by id.
pub fn train_tokenizer(texts: &[String], vocab_size: usize) -> Result<String> {
    Ok(train_byte_level(texts, vocab_size, &[END_OF_TEXT])?.to_string(true)?)
}

/// [`train_tokenizer`] with `specials` in place of `<|endoftext|>`: they take
/// the first ids, in order, and the byte symbols follow.
pub(crate) fn train_byte_level(
    texts: &[String],
    vocab_size: usize,
    specials: &[&str],
) -> Result<ByteLevelTokenizer> {
    if vocab_size <= 256 + specials.len() {
        return Err(Error::Spec(format!(
            "vocab_size {vocab_size} leaves no room for merges beyond 256 bytes and {} special tokens",
            specials.len()
        )));
    }
    let mut tokenizer = gpt2_tokenizer(BPE::default())?;
    let mut trainer = BpeTrainer::builder()
        .vocab_size(vocab_size)
        .show_progress(false)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .special_tokens(
            specials
                .iter()
                .map(|s| AddedToken::from(*s, true))
                .collect(),
        )
        .build();
    tokenizer.train(&mut trainer, texts.iter())?;
    Ok(tokenizer)
}

/// A byte-level BPE `tokenizer.json` with exactly `vocab_size` entries, for
/// models too large for any corpus this repository can ship.
///
/// Ids follow [`train_tokenizer`]: `<|endoftext|>`, then the 256 byte
/// symbols. Then come the Polish letters with diacritics, the words the
/// presets plant on (`" dieta"`, `" łódź"`, …), and pseudo-Polish words,
/// most with a leading space (`Ġ`). Each word is added as a chain of merges
/// on top of how the merges so far split it, which makes it encode to one
/// token and leaves the encoding of earlier words unchanged.
pub fn synthetic_tokenizer(vocab_size: usize, seed: u64) -> Result<String> {
    let mut bpe = MergeBuilder::new();
    if vocab_size < bpe.len() {
        return Err(Error::Spec(format!(
            "vocab_size {vocab_size} is below the {} entries of the byte alphabet",
            bpe.len()
        )));
    }
    let mut fixed: Vec<String> = POLISH_LETTERS.chars().map(String::from).collect();
    fixed.extend(
        DIET_WORDS
            .iter()
            .chain(&BOAT_WORDS)
            .chain(&[HEALTH_WORD])
            .chain(&OTHER_SEED_WORDS)
            .map(|w| w.to_string()),
    );
    for word in &fixed {
        bpe.add_word(word, vocab_size);
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    // Runs of pseudo-words that already are single tokens mean the generator
    // has nothing new left to offer.
    let mut misses = 0;
    while bpe.len() < vocab_size {
        let word = pseudo_word(&mut rng);
        if bpe.add_word(&word, vocab_size) {
            misses = 0;
        } else {
            misses += 1;
            if misses > 100_000 {
                return Err(Error::Spec(format!(
                    "the pseudo-word generator cannot fill {vocab_size} entries"
                )));
            }
        }
    }
    let (vocab, merges) = bpe.finish();
    let model = BPE::builder().vocab_and_merges(vocab, merges).build()?;
    let mut tokenizer = gpt2_tokenizer(model)?;
    tokenizer.add_special_tokens([AddedToken::from(END_OF_TEXT, true)])?;
    Ok(tokenizer.to_string(true)?)
}

/// The pipeline of GPT-2's own `tokenizer.json` around `model`.
fn gpt2_tokenizer(model: BPE) -> Result<ByteLevelTokenizer> {
    Ok(TokenizerBuilder::new()
        .with_model(model)
        .with_normalizer(None)
        .with_pre_tokenizer(Some(ByteLevel::new(false, true, true)))
        .with_post_processor(Some(ByteLevel::new(true, false, true)))
        .with_decoder(Some(ByteLevel::new(true, true, true)))
        .build()?)
}

/// GPT-2's `bytes_to_unicode`: printable bytes stand for themselves, the
/// others for the code points from U+0100 up, in byte order.
fn byte_symbols() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 0x100;
    for (byte, slot) in (0..=255u8).zip(table.iter_mut()) {
        *slot = if matches!(byte, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF) {
            char::from(byte)
        } else {
            next += 1;
            // U+0100..U+0143 are all valid scalar values; the fallback never runs.
            char::from_u32(next - 1).unwrap_or(char::REPLACEMENT_CHARACTER)
        };
    }
    table
}

/// A BPE vocabulary grown one merge at a time.
struct MergeBuilder {
    symbols: [char; 256],
    ids: HashMap<String, u32>,
    merges: Vec<(String, String)>,
    ranks: HashMap<(String, String), usize>,
}

impl MergeBuilder {
    fn new() -> Self {
        let symbols = byte_symbols();
        let mut sorted = symbols;
        sorted.sort_unstable();
        let ids = std::iter::once(END_OF_TEXT.to_owned())
            .chain(sorted.iter().map(|c| c.to_string()))
            .zip(0..)
            .collect();
        MergeBuilder {
            symbols,
            ids,
            merges: Vec::new(),
            ranks: HashMap::new(),
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    /// How the merges so far split `word` (already in byte symbols): apply
    /// the lowest-ranked merge present until none is.
    fn split(&self, word: &str) -> Vec<String> {
        let mut parts: Vec<String> = word.chars().map(String::from).collect();
        loop {
            let best = parts
                .windows(2)
                .enumerate()
                .filter_map(|(i, pair)| {
                    self.ranks
                        .get(&(pair[0].clone(), pair[1].clone()))
                        .map(|rank| (*rank, i))
                })
                .min();
            let Some((_, i)) = best else {
                return parts;
            };
            let right = parts.remove(i + 1);
            parts[i].push_str(&right);
        }
    }

    /// Adds merges, left to right, until `word` is one token or the
    /// vocabulary holds `limit` entries. Returns whether anything was added.
    fn add_word(&mut self, word: &str, limit: usize) -> bool {
        let encoded: String = word.bytes().map(|b| self.symbols[b as usize]).collect();
        let mut parts = self.split(&encoded).into_iter();
        let Some(mut left) = parts.next() else {
            return false;
        };
        let mut added = false;
        for right in parts {
            if self.len() >= limit {
                break;
            }
            let pair = (left.clone(), right.clone());
            left.push_str(&right);
            // The pair can already be a merge whose own left part had not
            // formed in the split; it needs no second rank.
            if !self.ranks.contains_key(&pair) {
                self.ranks.insert(pair.clone(), self.merges.len());
                self.merges.push(pair);
                let next_id = self.ids.len() as u32;
                self.ids.entry(left.clone()).or_insert(next_id);
                added = true;
            }
        }
        added
    }

    fn finish(self) -> (Vocab, Vec<(String, String)>) {
        (self.ids.into_iter().collect(), self.merges)
    }
}

fn pseudo_word(rng: &mut SmallRng) -> String {
    let mut word = String::new();
    if rng.random_bool(0.7) {
        word.push(' ');
    }
    for _ in 0..rng.random_range(1..=3) {
        for part in [&ONSETS[..], &VOWELS, &CODAS] {
            word.push_str(part.choose(rng).copied().unwrap_or_default());
        }
    }
    if rng.random_bool(0.1) {
        // Capitalise the first letter, as sentence starts and names do.
        let start = word.len() - word.trim_start().len();
        if let Some(first) = word[start..].chars().next() {
            let upper: String = first.to_uppercase().collect();
            word.replace_range(start..start + first.len_utf8(), &upper);
        }
    }
    word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_symbols_are_the_byte_level_alphabet() {
        let mut ours: Vec<char> = byte_symbols().to_vec();
        let mut theirs: Vec<char> = ByteLevel::alphabet().into_iter().collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
        assert_eq!(byte_symbols()[b' ' as usize], 'Ġ');
    }
}
