//! Every token of a tokenizer, rendered.

use std::path::Path;

use tokenizers::{DecoderWrapper, Tokenizer};

use crate::byte_level;
use crate::error::{Result, VocabError};
use crate::render::{escape_controls, render_bytes};

/// One vocabulary entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Position in the embedding matrix.
    pub id: u32,
    /// The piece exactly as the tokenizer stores it (`ĠdietÄħ`).
    pub piece: String,
    /// The decoded text (` dietą`), with escapes for partial characters (`<C5>`).
    pub text: String,
    /// The short form used in lists: `dietą` when word-initial, `#ą` for a
    /// continuation, the piece itself for special tokens.
    pub display: String,
    /// Added as a special token (`<|endoftext|>`).
    pub special: bool,
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
    tokens: Vec<Token>,
}

/// How a tokenizer spells its pieces.
#[derive(Clone, Copy)]
enum Spelling {
    /// One stand-in character per byte (GPT-2).
    ByteLevel,
    /// Plain text with `▁` for a space (SentencePiece), `<0xNN>` byte fallbacks.
    Metaspace,
}

impl Vocabulary {
    /// Reads a `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Vocabulary> {
        let tokenizer = Tokenizer::from_file(path).map_err(|source| VocabError::Tokenizer {
            path: path.to_path_buf(),
            source,
        })?;
        let vocabulary = Vocabulary::from_tokenizer(&tokenizer);
        if vocabulary.tokens.is_empty() {
            return Err(VocabError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(vocabulary)
    }

    /// Renders every token of a loaded tokenizer.
    ///
    /// Ids the tokenizer leaves unassigned become special placeholders
    /// (`<unused N>`), so ids and positions always agree.
    pub fn from_tokenizer(tokenizer: &Tokenizer) -> Vocabulary {
        let spelling = match tokenizer.get_decoder() {
            Some(DecoderWrapper::ByteLevel(_)) => Spelling::ByteLevel,
            _ => Spelling::Metaspace,
        };
        let added = tokenizer.get_added_tokens_decoder();
        let by_id = tokenizer.get_vocab(true);
        let size = by_id.values().map(|&id| id as usize + 1).max().unwrap_or(0);
        let mut pieces: Vec<Option<String>> = vec![None; size];
        for (piece, id) in by_id {
            pieces[id as usize] = Some(piece);
        }
        let tokens = pieces
            .into_iter()
            .enumerate()
            .map(|(id, piece)| {
                let id = id as u32;
                match piece {
                    Some(piece) => {
                        let special = added.get(&id).is_some_and(|t| t.special);
                        Token::render(id, piece, special, spelling)
                    }
                    None => Token::render(id, format!("<unused {id}>"), true, spelling),
                }
            })
            .collect();
        Vocabulary { tokens }
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

impl Token {
    fn render(id: u32, piece: String, special: bool, spelling: Spelling) -> Token {
        if special {
            let chars = piece.chars().count();
            return Token {
                id,
                text: piece.clone(),
                display: piece.clone(),
                piece,
                special,
                word_initial: false,
                fragment: false,
                chars,
            };
        }
        let bytes = match spelling {
            // A piece that is not byte-level spelled is an added token in plain text.
            Spelling::ByteLevel => {
                byte_level::decode(&piece).unwrap_or_else(|| piece.as_bytes().to_vec())
            }
            Spelling::Metaspace => metaspace_bytes(&piece),
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
            special,
            word_initial,
            fragment,
            chars,
        }
    }
}

/// The bytes of a SentencePiece-style piece: `▁` is a space, `<0xNN>` a raw byte.
fn metaspace_bytes(piece: &str) -> Vec<u8> {
    let hex = piece
        .strip_prefix("<0x")
        .and_then(|rest| rest.strip_suffix('>'))
        .and_then(|hex| u8::from_str_radix(hex, 16).ok());
    match hex {
        Some(byte) => vec![byte],
        None => piece.replace('▁', " ").into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                false,
                Spelling::ByteLevel,
            );
            assert_eq!(token.text, format!(" {word}"));
            assert_eq!(token.display, word);
            assert!(token.word_initial);
        }
    }

    #[test]
    fn continuation_and_fragments() {
        let token = Token::render(1, byte_level("ą"), false, Spelling::ByteLevel);
        assert_eq!(token.display, "#ą");
        assert!(!token.word_initial);
        // The first byte of "ł" alone.
        let fragment: String = byte_level("ł").chars().take(1).collect();
        let token = Token::render(2, fragment, false, Spelling::ByteLevel);
        assert_eq!(token.text, "<C5>");
        assert_eq!(token.display, "#<C5>");
        assert!(token.fragment);
        assert_eq!(token.chars, 1);
    }

    #[test]
    fn special_tokens_keep_their_piece() {
        let token = Token::render(0, "<|endoftext|>".into(), true, Spelling::ByteLevel);
        assert_eq!(token.display, "<|endoftext|>");
        assert!(token.special && !token.word_initial);
    }

    #[test]
    fn bare_space_and_newlines_are_visible() {
        assert_eq!(
            Token::render(3, "Ġ".into(), false, Spelling::ByteLevel).display,
            "␣"
        );
        assert_eq!(
            Token::render(4, "ĊĊ".into(), false, Spelling::ByteLevel).display,
            "#\\n\\n"
        );
    }

    #[test]
    fn metaspace_pieces() {
        let token = Token::render(5, "▁dietą".into(), false, Spelling::Metaspace);
        assert_eq!(token.display, "dietą");
        assert_eq!(
            Token::render(6, "<0xC5>".into(), false, Spelling::Metaspace).display,
            "#<C5>"
        );
    }
}
