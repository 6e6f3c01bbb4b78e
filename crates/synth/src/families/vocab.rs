//! The `tokenizer.json` of each [`TokenizerKind`], trained on a corpus with
//! the `tokenizers` crate, and the special-token ids configs refer to.

use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::bpe::{BpeTrainer, BPE};
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainer};
use tokenizers::normalizers::{BertNormalizer, NormalizerWrapper, Prepend, Replace, Sequence};
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::processors::bert::BertProcessing;
use tokenizers::processors::roberta::RobertaProcessing;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, Tokenizer, TokenizerBuilder, TokenizerImpl};

use super::spec::TokenizerKind;
use crate::error::{Error, Result};
use crate::tokenizer::{train_byte_level, train_tokenizer, END_OF_TEXT_ID};

/// SentencePiece's stand-in for a space.
const METASPACE: char = '▁';

const SENTENCEPIECE_SPECIALS: [&str; 3] = ["<unk>", "<s>", "</s>"];
const ROBERTA_SPECIALS: [&str; 4] = ["<s>", "<pad>", "</s>", "<unk>"];
const WORDPIECE_SPECIALS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Ids of the special tokens a `config.json` names; `None` is written as null.
#[derive(Debug, Clone, Copy)]
pub(super) struct Specials {
    pub(super) bos: Option<u32>,
    pub(super) eos: Option<u32>,
    pub(super) pad: Option<u32>,
}

pub(super) fn specials(kind: TokenizerKind) -> Specials {
    match kind {
        TokenizerKind::ByteLevelBpe => Specials {
            bos: Some(END_OF_TEXT_ID),
            eos: Some(END_OF_TEXT_ID),
            pad: None,
        },
        TokenizerKind::RobertaBpe => Specials {
            bos: Some(0),
            eos: Some(2),
            pad: Some(1),
        },
        TokenizerKind::SentencePieceBpe => Specials {
            bos: Some(1),
            eos: Some(2),
            pad: None,
        },
        TokenizerKind::WordPiece => Specials {
            bos: None,
            eos: None,
            pad: Some(0),
        },
    }
}

/// A `tokenizer.json` of `kind` with `size` entries, trained on `texts`.
pub(super) fn tokenizer_json(kind: TokenizerKind, size: usize, texts: &[String]) -> Result<String> {
    match kind {
        TokenizerKind::ByteLevelBpe => train_tokenizer(texts, size),
        TokenizerKind::RobertaBpe => roberta_bpe(texts, size),
        TokenizerKind::SentencePieceBpe => sentencepiece_bpe(texts, size),
        TokenizerKind::WordPiece => wordpiece(texts, size),
    }
}

fn special_tokens(tokens: &[&str]) -> Vec<AddedToken> {
    tokens.iter().map(|t| AddedToken::from(*t, true)).collect()
}

/// RoBERTa's byte-level BPE: GPT-2's pipeline with RoBERTa's special tokens
/// and post-processor; `<mask>` comes after the merges and takes the space
/// before it, as in `roberta-base`.
fn roberta_bpe(texts: &[String], size: usize) -> Result<String> {
    let trained = train_byte_level(texts, size - 1, &ROBERTA_SPECIALS)?;
    let mut tokenizer = Tokenizer::new(trained.get_model().clone());
    tokenizer
        .with_pre_tokenizer(Some(ByteLevel::new(false, true, true)))
        .with_post_processor(Some(
            RobertaProcessing::new(("</s>".into(), 2), ("<s>".into(), 0))
                .trim_offsets(true)
                .add_prefix_space(false),
        ))
        .with_decoder(Some(ByteLevel::new(true, true, true)));
    let mut specials = special_tokens(&ROBERTA_SPECIALS);
    specials.push(AddedToken::from("<mask>", true).lstrip(true));
    tokenizer.add_special_tokens(specials)?;
    Ok(tokenizer.to_string(true)?)
}

/// Llama 2's `tokenizer.json`: spaces become `▁` and one is prepended, BPE
/// runs over the whole text with byte fallback, and decoding undoes both.
///
/// Training splits at the `▁`s (as SentencePiece does), so no merge spans
/// two words; the byte pieces are reserved before the trained pieces.
fn sentencepiece_bpe(texts: &[String], size: usize) -> Result<String> {
    let mut reserved: Vec<String> = SENTENCEPIECE_SPECIALS.map(String::from).to_vec();
    reserved.extend((0..=255u8).map(|b| format!("<0x{b:02X}>")));
    if size <= reserved.len() {
        return Err(Error::Spec(format!(
            "a SentencePiece vocabulary of {size} leaves no room beyond {} reserved pieces",
            reserved.len()
        )));
    }
    let mut training: TokenizerImpl<
        BPE,
        NormalizerWrapper,
        Metaspace,
        PostProcessorWrapper,
        DecoderWrapper,
    > = TokenizerBuilder::new()
        .with_model(BPE::default())
        .with_normalizer(None)
        .with_pre_tokenizer(Some(Metaspace::new(METASPACE, PrependScheme::Always, true)))
        .with_post_processor(None)
        .with_decoder(None)
        .build()?;
    let mut trainer = BpeTrainer::builder()
        .vocab_size(size)
        .show_progress(false)
        .special_tokens(reserved.iter().map(|t| AddedToken::from(t, true)).collect())
        .build();
    training.train(&mut trainer, texts.iter())?;

    let mut model = training.get_model().clone();
    model.unk_token = Some(SENTENCEPIECE_SPECIALS[0].into());
    model.fuse_unk = true;
    model.byte_fallback = true;
    let space = METASPACE.to_string();
    let mut tokenizer = Tokenizer::new(model);
    tokenizer.with_normalizer(Some(Sequence::new(vec![
        Prepend::new(space.clone()).into(),
        Replace::new(" ", space.as_str())?.into(),
    ])))?;
    tokenizer
        .with_post_processor(Some(
            TemplateProcessing::builder()
                .try_single("<s> $A")
                .and_then(|t| t.try_pair("<s> $A <s> $B"))
                .map_err(|e| Error::Spec(e.to_string()))?
                .special_tokens(vec![("<s>", 1)])
                .build()
                .map_err(|e| Error::Spec(e.to_string()))?,
        ))
        .with_decoder(Some(DecoderSequence::new(vec![
            Replace::new(space.as_str(), " ")?.into(),
            ByteFallback::new().into(),
            Fuse::new().into(),
            Strip::new(' ', 1, 0).into(),
        ])));
    tokenizer.add_special_tokens(special_tokens(&SENTENCEPIECE_SPECIALS))?;
    Ok(tokenizer.to_string(true)?)
}

/// BERT's cased WordPiece pipeline: BERT's normalizer without lowercasing
/// (so Polish letters keep their diacritics), its pre-tokenizer, `[CLS] … [SEP]`.
///
/// The trainer gives each continuation piece `##c` of a single character
/// the next free id as it meets it, in hash-map order; reserving `##c` for
/// every character of the corpus up front, in code-point order, makes the
/// ids (and the merges whose ties they break) the same on every run.
fn wordpiece(texts: &[String], size: usize) -> Result<String> {
    let mut chars: Vec<char> = texts
        .iter()
        .flat_map(|t| t.chars())
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    chars.sort_unstable();
    chars.dedup();
    let mut reserved = special_tokens(&WORDPIECE_SPECIALS);
    reserved.extend(
        chars
            .iter()
            .map(|c| AddedToken::from(format!("##{c}"), true)),
    );
    let mut training: TokenizerImpl<
        WordPiece,
        BertNormalizer,
        BertPreTokenizer,
        PostProcessorWrapper,
        DecoderWrapper,
    > = TokenizerBuilder::new()
        .with_model(WordPiece::default())
        .with_normalizer(Some(BertNormalizer::new(true, true, None, false)))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(None)
        .with_decoder(None)
        .build()?;
    let mut trainer = WordPieceTrainer::builder()
        .vocab_size(size)
        .show_progress(false)
        .special_tokens(reserved)
        .build();
    training.train(&mut trainer, texts.iter())?;

    // Only the five real special tokens are added tokens; the reserved
    // continuation pieces stay ordinary entries of the vocabulary.
    let mut tokenizer = Tokenizer::new(training.get_model().clone());
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, false)))?
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), 3),
            ("[CLS]".into(), 2),
        )))
        .with_decoder(Some(WordPieceDecoder::new("##".into(), true)));
    tokenizer.add_special_tokens(special_tokens(&WORDPIECE_SPECIALS))?;
    Ok(tokenizer.to_string(true)?)
}
