//! The tokens table.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, RecordBatch, StringArray, UInt32Array, UInt64Array};

use crate::columns::Columns;
use crate::error::Result;
use crate::parquet_io::read_batches;
use crate::schema;

/// One token as stored in `tokens.parquet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub token_id: u32,
    /// As the tokenizer stores it (`ĠdietÄħ`).
    pub piece: String,
    /// Decoded text (` dietą`), `<C5>` for bytes of partial characters.
    pub text: String,
    /// Short form used in lists (`dietą`, `#ą`).
    pub display: String,
    pub special: bool,
    /// Listed among the tokenizer's added tokens (special or not).
    pub added: bool,
    pub word_initial: bool,
    /// Holds part of a multi-byte character.
    pub fragment: bool,
    /// The form search matches against: lowercase, no word-initial marker.
    pub normalized: String,
    /// Characters after the word-initial space.
    pub chars: u32,
    /// Character classes the filters test (see `glossa_vocab::CharClasses`).
    pub is_ascii: bool,
    pub is_alnum: bool,
    pub has_brackets: bool,
    pub is_alpha: bool,
    pub is_word: bool,
    /// Passed every filter of the run: may appear in lists.
    pub allowed: bool,
}

/// The tokens as one batch of the `tokens` schema.
pub fn tokens_batch(rows: &[TokenRow]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt32Array::from_iter_values(
            rows.iter().map(|r| r.token_id),
        )),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.piece))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.text))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &r.display),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.special)),
        )),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| Some(r.added)))),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.word_initial)),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.fragment)),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &r.normalized),
        )),
        Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.chars))),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.is_ascii)),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.is_alnum)),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.has_brackets)),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.is_alpha)),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.is_word)),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.allowed)),
        )),
    ];
    RecordBatch::try_new(schema::tokens(), columns)
        .expect("columns are built to match the tokens schema")
}

/// Reads `tokens.parquet`.
pub fn read_tokens(path: &Path) -> Result<Vec<TokenRow>> {
    let mut rows = Vec::new();
    for batch in read_batches(path)? {
        let columns = Columns::new(&batch, path);
        let text = |name| columns.get::<StringArray>(name);
        let flag = |name| columns.get::<BooleanArray>(name);
        let id = columns.get::<UInt32Array>("token_id")?;
        let (piece, decoded, display, normalized) = (
            text("piece")?,
            text("text")?,
            text("display")?,
            text("normalized")?,
        );
        let (special, added, initial, fragment) = (
            flag("special")?,
            flag("added")?,
            flag("word_initial")?,
            flag("fragment")?,
        );
        let (ascii, alnum, brackets) =
            (flag("is_ascii")?, flag("is_alnum")?, flag("has_brackets")?);
        let (alpha, word, allowed) = (flag("is_alpha")?, flag("is_word")?, flag("allowed")?);
        let chars = columns.get::<UInt32Array>("chars")?;
        for i in 0..batch.num_rows() {
            rows.push(TokenRow {
                token_id: id.value(i),
                piece: piece.value(i).to_string(),
                text: decoded.value(i).to_string(),
                display: display.value(i).to_string(),
                special: special.value(i),
                added: added.value(i),
                word_initial: initial.value(i),
                fragment: fragment.value(i),
                normalized: normalized.value(i).to_string(),
                chars: chars.value(i),
                is_ascii: ascii.value(i),
                is_alnum: alnum.value(i),
                has_brackets: brackets.value(i),
                is_alpha: alpha.value(i),
                is_word: word.value(i),
                allowed: allowed.value(i),
            });
        }
    }
    Ok(rows)
}

/// The (token id, count) pairs of a token list as one batch of the `token_list` schema.
pub fn token_list_batch(list: &[(u32, u64)]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt32Array::from_iter_values(list.iter().map(|p| p.0))),
        Arc::new(UInt64Array::from_iter_values(list.iter().map(|p| p.1))),
    ];
    RecordBatch::try_new(schema::token_list(), columns)
        .expect("columns are built to match the token_list schema")
}

/// Whether `path` is a saved token list (a Parquet file with `token_id` and `count`).
pub fn is_token_list(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "parquet")
        && read_batches(path).is_ok_and(|batches| {
            batches.first().is_some_and(|b| {
                b.column_by_name("token_id").is_some() && b.column_by_name("count").is_some()
            })
        })
}

/// Reads a saved token list.
pub fn read_token_list(path: &Path) -> Result<Vec<(u32, u64)>> {
    let mut list = Vec::new();
    for batch in read_batches(path)? {
        let columns = Columns::new(&batch, path);
        let ids = columns.get::<UInt32Array>("token_id")?;
        let counts = columns.get::<UInt64Array>("count")?;
        list.extend(
            ids.values()
                .iter()
                .copied()
                .zip(counts.values().iter().copied()),
        );
    }
    Ok(list)
}
