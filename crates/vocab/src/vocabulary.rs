//! Every token of a tokenizer, rendered.

use std::path::Path;

use tokenizers::{
    Model, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, Tokenizer,
};

use crate::error::{Result, UnknownScheme, VocabError};
use crate::render::{escape_controls, render_bytes};
use crate::scheme::Scheme;

/// One vocabulary entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Position in the embedding matrix.
    pub id: u32,
    /// The piece exactly as the tokenizer stores it (`ĠdietÄħ`, `▁dietą`, `##ą`).
    pub piece: String,
    /// The decoded text (` dietą`), with escapes for partial characters
    /// (`<C5>`). Starts with a space exactly when the piece starts a word, in
    /// every scheme (WordPiece pieces without `##` get one).
    pub text: String,
    /// The short form used in lists: `dietą` when word-initial, `#ą` for a
    /// continuation, the piece itself for special tokens.
    pub display: String,
    /// A control token, never text: an added token marked special
    /// (`<|endoftext|>`, `<s>`, `[CLS]`), a reserved slot (`[unused0]`), or an
    /// id the tokenizer leaves unassigned.
    pub special: bool,
    /// Listed among the tokenizer's added tokens, special or not: matched whole
    /// in the input before the model splits it (`<|im_start|>`, `<tool_call>`).
    pub added: bool,
    /// Starts a word: the decoded text begins with a space.
    pub word_initial: bool,
    /// Holds part of a multi-byte character (its text has `<XX>` escapes).
    pub fragment: bool,
    /// Characters after the word-initial space; a byte of a partial character counts as one.
    pub chars: usize,
}

/// All tokens, indexed by id.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    scheme: Scheme,
    tokens: Vec<Token>,
}

/// What the tokenizer says an id is, before it is rendered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A piece of the model's vocabulary.
    Piece,
    /// A non-special added token: text, matched whole.
    Added,
    /// A special added token.
    AddedSpecial,
    /// Never text: a reserved slot or an unassigned id.
    Reserved,
}

impl Vocabulary {
    /// Reads a `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Vocabulary> {
        let tokenizer = Tokenizer::from_file(path).map_err(|source| VocabError::Tokenizer {
            path: path.to_path_buf(),
            source,
        })?;
        Vocabulary::read(&tokenizer, path)
    }

    /// Renders every token of a loaded tokenizer, refusing one whose scheme
    /// is unknown or that has no tokens; `source` (a `tokenizer.json`, a GGUF
    /// file) names it in errors.
    pub fn read(tokenizer: &Tokenizer, source: &Path) -> Result<Vocabulary> {
        let path = source;
        let vocabulary =
            Vocabulary::from_tokenizer(tokenizer).map_err(|source| VocabError::Scheme {
                path: path.to_path_buf(),
                source,
            })?;
        if vocabulary.tokens.is_empty() {
            return Err(VocabError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(vocabulary)
    }

    /// Renders every token of a loaded tokenizer, in the [`Scheme`] its parts
    /// declare.
    ///
    /// Ids the tokenizer leaves unassigned become special placeholders
    /// (`<unused N>`), so ids and positions always agree.
    pub fn from_tokenizer(tokenizer: &Tokenizer) -> Result<Vocabulary, UnknownScheme> {
        let scheme = Scheme::detect(tokenizer)?;
        let model = tokenizer.get_model().get_vocab();
        let added = tokenizer.get_added_tokens_decoder();
        let size = model
            .values()
            .chain(added.keys())
            .map(|&id| id as usize + 1)
            .max()
            .unwrap_or(0);
        let mut entries: Vec<Option<(String, Kind)>> = vec![None; size];
        for (piece, id) in model {
            let kind = if reserved(tokenizer, &scheme, &piece) {
                Kind::Reserved
            } else {
                Kind::Piece
            };
            entries[id as usize] = Some((piece, kind));
        }
        // An added token that shares its id with a model piece wins, as it
        // does when the tokenizer decodes.
        for (id, token) in added {
            let kind = if token.special {
                Kind::AddedSpecial
            } else {
                Kind::Added
            };
            entries[id as usize] = Some((token.content, kind));
        }
        let tokens = entries
            .into_iter()
            .enumerate()
            .map(|(id, entry)| {
                let id = id as u32;
                let (piece, kind) =
                    entry.unwrap_or_else(|| (format!("<unused {id}>"), Kind::Reserved));
                Token::render(id, piece, kind, &scheme)
            })
            .collect();
        Ok(Vocabulary { scheme, tokens })
    }

    /// How the tokenizer spells its pieces.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// Number of token ids.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The token with this id.
    pub fn get(&self, id: u32) -> Option<&Token> {
        self.tokens.get(id as usize)
    }

    /// All tokens in id order.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }
}

/// Whether a WordPiece vocabulary entry is a reserved slot rather than text.
///
/// BERT keeps `[unused0]` … and, when they are not listed as added tokens,
/// `[CLS]` and friends as ordinary vocabulary entries. Its own pre-tokenizer
/// cuts such an entry apart (`[`, `unused0`, `]`), so no text can ever
/// produce it; a real word piece comes out of the pre-tokenizer whole. The
/// other schemes mark their control pieces as added tokens, and their
/// pre-tokenizers see stand-ins or `▁` runs that they may split legitimately.
fn reserved(tokenizer: &Tokenizer, scheme: &Scheme, piece: &str) -> bool {
    let (Scheme::WordPiece { .. }, Some(pre_tokenizer)) = (scheme, tokenizer.get_pre_tokenizer())
    else {
        return false;
    };
    let mut split = PreTokenizedString::from(scheme.word(piece));
    pre_tokenizer.pre_tokenize(&mut split).is_ok()
        && split
            .get_splits(OffsetReferential::Original, OffsetType::None)
            .len()
            > 1
}

impl Token {
    fn render(id: u32, piece: String, kind: Kind, scheme: &Scheme) -> Token {
        let added = matches!(kind, Kind::Added | Kind::AddedSpecial);
        if matches!(kind, Kind::AddedSpecial | Kind::Reserved) {
            let chars = piece.chars().count();
            return Token {
                id,
                text: piece.clone(),
                display: piece.clone(),
                piece,
                special: true,
                added,
                word_initial: false,
                fragment: false,
                chars,
            };
        }
        let bytes = if added {
            scheme.read_added(&piece)
        } else {
            scheme.read(&piece)
        };
        let text = render_bytes(&bytes);
        let word = bytes.strip_prefix(b" ").unwrap_or(&bytes);
        let fragment = std::str::from_utf8(word).is_err();
        let chars = word
            .utf8_chunks()
            .map(|chunk| chunk.valid().chars().count() + chunk.invalid().len())
            .sum();
        let word_initial = text.starts_with(' ');
        let display = match text.strip_prefix(' ') {
            Some("") => "␣".to_string(),
            Some(word) => escape_controls(word),
            None => format!("#{}", escape_controls(&text)),
        };
        Token {
            id,
            piece,
            text,
            display,
            special: false,
            added,
            word_initial,
            fragment,
            chars,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::byte_level;

    const SENTENCEPIECE: Scheme = Scheme::SentencePiece {
        marker: '▁',
        byte_fallback: true,
    };

    fn byte_level(piece_text: &str) -> String {
        piece_text
            .bytes()
            .map(|b| {
                (0u32..=0x143)
                    .filter_map(char::from_u32)
                    .find(|&c| byte_level::byte_of(c) == Some(b))
                    .expect("every byte has a stand-in")
            })
            .collect()
    }

    #[test]
    fn polish_words_read_correctly() {
        for word in ["dietą", "łódź", "żółw"] {
            let token = Token::render(
                7,
                byte_level(&format!(" {word}")),
                Kind::Piece,
                &Scheme::ByteLevel,
            );
            assert_eq!(token.text, format!(" {word}"));
            assert_eq!(token.display, word);
            assert!(token.word_initial);
        }
    }

    #[test]
    fn continuation_and_fragments() {
        let token = Token::render(1, byte_level("ą"), Kind::Piece, &Scheme::ByteLevel);
        assert_eq!(token.display, "#ą");
        assert!(!token.word_initial);
        // The first byte of "ł" alone.
        let fragment: String = byte_level("ł").chars().take(1).collect();
        let token = Token::render(2, fragment, Kind::Piece, &Scheme::ByteLevel);
        assert_eq!(token.text, "<C5>");
        assert_eq!(token.display, "#<C5>");
        assert!(token.fragment);
        assert_eq!(token.chars, 1);
    }

    #[test]
    fn special_tokens_keep_their_piece() {
        let token = Token::render(
            0,
            "<|endoftext|>".into(),
            Kind::AddedSpecial,
            &Scheme::ByteLevel,
        );
        assert_eq!(token.display, "<|endoftext|>");
        assert!(token.special && !token.word_initial);
    }

    #[test]
    fn bare_space_and_newlines_are_visible() {
        assert_eq!(
            Token::render(3, "Ġ".into(), Kind::Piece, &Scheme::ByteLevel).display,
            "␣"
        );
        assert_eq!(
            Token::render(4, "ĊĊ".into(), Kind::Piece, &Scheme::ByteLevel).display,
            "#\\n\\n"
        );
    }

    #[test]
    fn metaspace_pieces() {
        let token = Token::render(5, "▁dietą".into(), Kind::Piece, &SENTENCEPIECE);
        assert_eq!(token.display, "dietą");
        assert_eq!(
            Token::render(6, "<0xC5>".into(), Kind::Piece, &SENTENCEPIECE).display,
            "#<C5>"
        );
    }
}
