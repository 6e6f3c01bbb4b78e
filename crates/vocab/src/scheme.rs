//! How a tokenizer spells its pieces, read from the tokenizer's own parts.
//!
//! The model family is never consulted: a Llama 3 tokenizer is byte-level BPE
//! because its decoder is `ByteLevel`, and a Llama 2 one is SentencePiece
//! because its decoder turns `▁` into a space and falls back to bytes.

use tokenizers::normalizers::replace::Replace;
use tokenizers::{
    Decoder, DecoderWrapper, ModelWrapper, NormalizerWrapper, PreTokenizerWrapper, Tokenizer,
};

use crate::byte_level;
use crate::error::UnknownScheme;

/// SentencePiece's word marker, the stand-in for a space.
const SENTENCEPIECE_MARKER: char = '▁';

/// How a vocabulary spells its pieces.
///
/// Every scheme is read into the same form: the piece's bytes, starting with a
/// space when the piece starts a word. That space is the only word-initial
/// mark the rest of Glossa knows (display forms, filters, the search index).
/// Whether a tokenizer adds a dummy `▁` before a text (Metaspace's
/// `prepend_scheme`, Llama 2's Prepend and Strip) decides only whether a
/// text's first word gets a marker, never how a piece reads, so it is not
/// part of the scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// Byte-level BPE (GPT-2, Llama 3, Qwen): one stand-in character per
    /// byte, `Ġ` for the space.
    ByteLevel,
    /// SentencePiece, BPE or Unigram (Llama 2, Mistral, Gemma, T5): plain text
    /// with `marker` (`▁`) for a space; with byte fallback, `<0xC5>` is the
    /// single byte C5.
    SentencePiece { marker: char, byte_fallback: bool },
    /// WordPiece (BERT): a piece continues a word when it starts with `prefix`
    /// (`##owa`); every other piece starts one.
    WordPiece { prefix: String },
    /// Whole words (`WordLevel` models): every piece starts a word.
    WordLevel,
}

impl Scheme {
    /// Reads the scheme off a tokenizer's model, normalizer, pre-tokenizer and
    /// decoder.
    pub fn detect(tokenizer: &Tokenizer) -> Result<Scheme, UnknownScheme> {
        let model = tokenizer.get_model();
        let mut decoders = Vec::new();
        if let Some(decoder) = tokenizer.get_decoder() {
            flatten_decoders(decoder, &mut decoders);
        }
        let mut pre_tokenizers = Vec::new();
        if let Some(pre_tokenizer) = tokenizer.get_pre_tokenizer() {
            flatten_pre_tokenizers(pre_tokenizer, &mut pre_tokenizers);
        }

        // Checked first, and on the decoder first, so that GPT-2 tokenizers are
        // read exactly as before the other schemes existed.
        let byte_level = decoders
            .iter()
            .any(|d| matches!(d, DecoderWrapper::ByteLevel(_)))
            || pre_tokenizers
                .iter()
                .any(|p| matches!(p, PreTokenizerWrapper::ByteLevel(_)))
            || tokenizer.get_normalizer().is_some_and(normalizes_to_bytes);
        if byte_level {
            return Ok(Scheme::ByteLevel);
        }
        if let ModelWrapper::WordPiece(wordpiece) = model {
            return Ok(Scheme::WordPiece {
                prefix: wordpiece.continuing_subword_prefix.clone(),
            });
        }

        let marker = decoders
            .iter()
            .find_map(|d| match d {
                DecoderWrapper::Metaspace(m) => Some(m.get_replacement()),
                DecoderWrapper::Replace(r) if replaces_marker(r) => Some(SENTENCEPIECE_MARKER),
                _ => None,
            })
            .or_else(|| {
                pre_tokenizers.iter().find_map(|p| match p {
                    PreTokenizerWrapper::Metaspace(m) => Some(m.get_replacement()),
                    _ => None,
                })
            });
        let model_byte_fallback = match model {
            ModelWrapper::BPE(bpe) => bpe.byte_fallback,
            ModelWrapper::Unigram(unigram) => unigram.byte_fallback(),
            ModelWrapper::WordPiece(_) | ModelWrapper::WordLevel(_) => false,
        };
        let byte_fallback = model_byte_fallback
            || decoders
                .iter()
                .any(|d| matches!(d, DecoderWrapper::ByteFallback(_)));
        // Byte fallback and Unigram models exist only as SentencePiece
        // conversions, so they say `▁` even without a Metaspace part.
        let sentencepiece =
            marker.is_some() || byte_fallback || matches!(model, ModelWrapper::Unigram(_));
        if sentencepiece {
            return Ok(Scheme::SentencePiece {
                marker: marker.unwrap_or(SENTENCEPIECE_MARKER),
                byte_fallback,
            });
        }

        // A BPE model trained with a continuation prefix reads like WordPiece.
        let wordpiece_prefix = decoders
            .iter()
            .find_map(|d| match d {
                DecoderWrapper::WordPiece(w) => Some(w.prefix.clone()),
                _ => None,
            })
            .or_else(|| match model {
                ModelWrapper::BPE(bpe) => bpe
                    .continuing_subword_prefix
                    .clone()
                    .filter(|p| !p.is_empty()),
                _ => None,
            });
        if let Some(prefix) = wordpiece_prefix {
            return Ok(Scheme::WordPiece { prefix });
        }
        if let ModelWrapper::WordLevel(_) = model {
            return Ok(Scheme::WordLevel);
        }
        Err(UnknownScheme {
            model: type_name(serde_json::to_value(model)),
            pre_tokenizer: tokenizer.get_pre_tokenizer().map_or_else(
                || "none".to_string(),
                |p| type_name(serde_json::to_value(p)),
            ),
            decoder: tokenizer.get_decoder().map_or_else(
                || "none".to_string(),
                |d| type_name(serde_json::to_value(d)),
            ),
        })
    }

    /// The bytes a vocabulary piece stands for, with a leading space when it
    /// starts a word.
    pub(crate) fn read(&self, piece: &str) -> Vec<u8> {
        match self {
            // Every piece of a byte-level model is spelled in stand-ins; one
            // that is not is taken as plain text, as the decoder itself does.
            Scheme::ByteLevel => {
                byte_level::decode(piece).unwrap_or_else(|| piece.as_bytes().to_vec())
            }
            Scheme::SentencePiece {
                byte_fallback: true,
                ..
            } => match fallback_byte(piece) {
                Some(byte) => vec![byte],
                None => self.read_added(piece),
            },
            _ => self.read_added(piece),
        }
    }

    /// The bytes of a non-special added token: its content as text.
    ///
    /// Added tokens are matched whole in the input, so their content is never
    /// spelled in byte-level stand-ins nor a byte fallback; the word marks of
    /// the other schemes still apply, as their decoders apply them.
    pub(crate) fn read_added(&self, content: &str) -> Vec<u8> {
        match self {
            Scheme::ByteLevel => content.as_bytes().to_vec(),
            Scheme::SentencePiece { marker, .. } => content.replace(*marker, " ").into_bytes(),
            Scheme::WordPiece { .. } => match self.continuation(content) {
                Some(rest) => rest.as_bytes().to_vec(),
                None => format!(" {content}").into_bytes(),
            },
            // The decoder joins words with spaces, so every piece starts one.
            Scheme::WordLevel => format!(" {content}").into_bytes(),
        }
    }

    /// The part of a piece its pre-tokenizer sees: without a continuation prefix.
    pub(crate) fn word<'a>(&self, piece: &'a str) -> &'a str {
        self.continuation(piece).unwrap_or(piece)
    }

    /// What follows the prefix of a WordPiece continuation (`owa` of `##owa`).
    /// The bare prefix (`##`) continues nothing: it is a word of its own.
    fn continuation<'a>(&self, piece: &'a str) -> Option<&'a str> {
        match self {
            Scheme::WordPiece { prefix } if !prefix.is_empty() => piece
                .strip_prefix(prefix.as_str())
                .filter(|rest| !rest.is_empty()),
            _ => None,
        }
    }
}

/// `<0xC5>`: SentencePiece's piece for the single byte C5.
fn fallback_byte(piece: &str) -> Option<u8> {
    let hex = piece.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

/// Whether a `Replace` decoder turns SentencePiece's marker into a space
/// (Llama 2's decoder starts so). Its pattern is private, so it is asked.
fn replaces_marker(replace: &Replace) -> bool {
    replace
        .decode_chain(vec![SENTENCEPIECE_MARKER.to_string()])
        .is_ok_and(|out| out == [" "])
}

/// Whether a normalizer spells the input in byte-level stand-ins.
fn normalizes_to_bytes(normalizer: &NormalizerWrapper) -> bool {
    match normalizer {
        NormalizerWrapper::ByteLevel(_) => true,
        NormalizerWrapper::Sequence(sequence) => sequence.as_ref().iter().any(normalizes_to_bytes),
        _ => false,
    }
}

fn flatten_decoders<'a>(decoder: &'a DecoderWrapper, out: &mut Vec<&'a DecoderWrapper>) {
    match decoder {
        DecoderWrapper::Sequence(sequence) => {
            for part in sequence.get_decoders() {
                flatten_decoders(part, out);
            }
        }
        other => out.push(other),
    }
}

fn flatten_pre_tokenizers<'a>(
    pre_tokenizer: &'a PreTokenizerWrapper,
    out: &mut Vec<&'a PreTokenizerWrapper>,
) {
    match pre_tokenizer {
        PreTokenizerWrapper::Sequence(sequence) => {
            for part in sequence.as_ref() {
                flatten_pre_tokenizers(part, out);
            }
        }
        other => out.push(other),
    }
}

/// A tokenizer part's name as `tokenizer.json` spells it (`"BPE"`,
/// `"Sequence"`), for messages.
fn type_name(serialized: serde_json::Result<serde_json::Value>) -> String {
    serialized
        .ok()
        .and_then(|v| v.get("type")?.as_str().map(str::to_string))
        .unwrap_or_else(|| "unnamed".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_bytes_are_exactly_two_hex_digits() {
        assert_eq!(fallback_byte("<0xC5>"), Some(0xC5));
        assert_eq!(fallback_byte("<0x0a>"), Some(0x0A));
        assert_eq!(fallback_byte("<0x100>"), None);
        assert_eq!(fallback_byte("<0x>"), None);
        assert_eq!(fallback_byte("0xC5"), None);
    }

    #[test]
    fn sentencepiece_reads_marker_and_bytes() {
        let scheme = Scheme::SentencePiece {
            marker: '▁',
            byte_fallback: true,
        };
        assert_eq!(scheme.read("▁dieta"), b" dieta");
        assert_eq!(scheme.read("<0xC5>"), [0xC5]);
        let plain = Scheme::SentencePiece {
            marker: '▁',
            byte_fallback: false,
        };
        assert_eq!(
            plain.read("<0xC5>"),
            b"<0xC5>",
            "no byte fallback, no bytes"
        );
    }

    #[test]
    fn wordpiece_prefix_marks_continuations() {
        let scheme = Scheme::WordPiece {
            prefix: "##".into(),
        };
        assert_eq!(scheme.read("dieta"), b" dieta");
        assert_eq!(scheme.read("##owa"), b"owa");
        assert_eq!(scheme.read("##"), b" ##");
        assert_eq!(scheme.word("##owa"), "owa");
        assert_eq!(scheme.word("##"), "##");
    }

    #[test]
    fn byte_level_added_tokens_are_plain_text() {
        // `ą` is also the stand-in of byte 05; an added token means the letter.
        assert_eq!(Scheme::ByteLevel.read_added("ą"), "ą".as_bytes());
        assert_eq!(Scheme::ByteLevel.read("Ġą"), b" \x05");
    }
}
