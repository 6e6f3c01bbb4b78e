//! Every major tokenizer family, written in its own `tokenizer.json` format,
//! renders under one display convention: word-initial pieces plain (`dieta`),
//! continuations `#`-prefixed (`#owa`), bytes of partial characters escaped
//! (`<C5>`), control tokens flagged special.

use std::str::FromStr;

use serde_json::{json, Value};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, Tokenizer};

use glossa_vocab::{
    allowed_tokens, CharClasses, CharFilter, Scheme, Token, VocabError, Vocabulary,
};

// ---------------------------------------------------------------- helpers

fn added(id: u32, content: &str, special: bool) -> Value {
    json!({
        "id": id, "content": content, "single_word": false, "lstrip": false,
        "rstrip": false, "normalized": !special, "special": special
    })
}

fn tokenizer(added_tokens: Vec<Value>, parts: Value) -> Tokenizer {
    let mut json = json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": added_tokens, "normalizer": null, "pre_tokenizer": null,
        "post_processor": null, "decoder": null,
    });
    for (key, value) in parts.as_object().unwrap() {
        json[key] = value.clone();
    }
    Tokenizer::from_str(&json.to_string()).expect("a valid tokenizer.json")
}

fn vocabulary(tokenizer: &Tokenizer) -> Vocabulary {
    Vocabulary::from_tokenizer(tokenizer).expect("a known scheme")
}

/// An object vocabulary `{piece: id}` with ids from `first` on.
fn vocab_object(first: u32, pieces: &[String]) -> Value {
    let map: serde_json::Map<String, Value> = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| (p.clone(), json!(first + i as u32)))
        .collect();
    Value::Object(map)
}

/// SentencePiece's 256 byte-fallback pieces, `<0x00>` to `<0xFF>`.
fn byte_pieces() -> Vec<String> {
    (0u8..=255).map(|b| format!("<0x{b:02X}>")).collect()
}

fn strings(pieces: &[&str]) -> Vec<String> {
    pieces.iter().map(|p| p.to_string()).collect()
}

/// GPT-2's stand-in spelling of `text`, as the tokenizers crate's own
/// ByteLevel pre-tokenizer writes it.
fn stand_ins(text: &str) -> String {
    let mut split = PreTokenizedString::from(text);
    ByteLevel::new(false, false, false)
        .pre_tokenize(&mut split)
        .unwrap();
    split
        .get_splits(OffsetReferential::Original, OffsetType::None)
        .into_iter()
        .map(|(s, _, _)| s)
        .collect()
}

fn token<'a>(vocabulary: &'a Vocabulary, piece: &str) -> &'a Token {
    vocabulary
        .tokens()
        .iter()
        .find(|t| t.piece == piece)
        .unwrap_or_else(|| panic!("no piece {piece:?}"))
}

/// Asserts a text piece's rendering: text, display, word_initial, fragment.
#[track_caller]
fn renders(vocabulary: &Vocabulary, piece: &str, text: &str, display: &str) {
    let t = token(vocabulary, piece);
    assert_eq!(
        (t.text.as_str(), t.display.as_str()),
        (text, display),
        "{piece:?}"
    );
    assert_eq!(
        t.word_initial,
        text.starts_with(' '),
        "{piece:?} word_initial"
    );
    // Every fragment in these vocabularies is one escaped byte (`<C5>`).
    let fragment = text.len() == 4 && text.starts_with('<') && text.ends_with('>');
    assert_eq!(t.fragment, fragment, "{piece:?} fragment");
    assert!(!t.special && !t.added, "{piece:?} is a model piece");
}

#[track_caller]
fn is_special(vocabulary: &Vocabulary, piece: &str, added: bool) {
    let t = token(vocabulary, piece);
    assert!(t.special, "{piece:?} special");
    assert_eq!(t.added, added, "{piece:?} added");
    assert_eq!((t.text.as_str(), t.display.as_str()), (piece, piece));
    assert!(!t.word_initial && !t.fragment);
}

fn classes(vocabulary: &Vocabulary, piece: &str) -> CharClasses {
    CharClasses::of(token(vocabulary, piece))
}

/// The texts of an encoding's tokens, joined: what the rendering says the
/// tokenizer decodes to.
fn rendered(tokenizer: &Tokenizer, vocabulary: &Vocabulary, input: &str) -> (String, String) {
    let encoding = tokenizer.encode(input, false).unwrap();
    let ours = encoding
        .get_ids()
        .iter()
        .map(|&id| vocabulary.get(id).unwrap().text.as_str())
        .collect();
    let theirs = tokenizer.decode(encoding.get_ids(), true).unwrap();
    (ours, theirs)
}

// ---------------------------------------------------------------- families

/// Llama 2 (and Mistral v0.1): SentencePiece BPE with byte fallback, a
/// normalizer that writes spaces as `▁`, and the decoder sequence
/// Replace(▁, " ") + ByteFallback + Fuse + Strip.
fn llama2() -> Tokenizer {
    let mut pieces = strings(&["<unk>", "<s>", "</s>"]);
    pieces.extend(byte_pieces());
    pieces.extend(strings(&[
        "▁",
        "▁▁",
        "▁dieta",
        "owa",
        "▁łódź",
        "ł",
        "ó",
        "d",
        "ź",
        "i",
        "e",
        "t",
        "a",
        "o",
        "w",
        "▁d",
        "▁Ł",
    ]));
    tokenizer(
        vec![
            added(0, "<unk>", true),
            added(1, "<s>", true),
            added(2, "</s>", true),
        ],
        json!({
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "▁"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}
            ]},
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0}
            ]},
            "model": {
                "type": "BPE", "dropout": null, "unk_token": "<unk>",
                "continuing_subword_prefix": null, "end_of_word_suffix": null,
                "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
                "vocab": vocab_object(0, &pieces), "merges": []
            }
        }),
    )
}

#[test]
fn llama2_sentencepiece_with_byte_fallback() {
    let tokenizer = llama2();
    let v = vocabulary(&tokenizer);
    assert_eq!(
        v.scheme(),
        &Scheme::SentencePiece {
            marker: '▁',
            byte_fallback: true
        }
    );
    renders(&v, "▁dieta", " dieta", "dieta");
    renders(&v, "owa", "owa", "#owa");
    renders(&v, "▁łódź", " łódź", "łódź");
    renders(&v, "ł", "ł", "#ł");
    renders(&v, "▁", " ", "␣");
    renders(&v, "▁▁", "  ", " ");
    // The two bytes of `ł` (C5 82): fragments, escaped as byte-level ones are.
    renders(&v, "<0xC5>", "<C5>", "#<C5>");
    renders(&v, "<0x82>", "<82>", "#<82>");
    // A byte that is a whole ASCII character is that character.
    renders(&v, "<0x0A>", "\n", "#\\n");
    renders(&v, "<0x41>", "A", "#A");
    renders(&v, "<0x20>", " ", "␣");
    for piece in ["<unk>", "<s>", "</s>"] {
        is_special(&v, piece, true);
    }
    assert_eq!(token(&v, "<0xC5>").chars, 1);
    assert_eq!(token(&v, "▁łódź").chars, 4);

    // `ż` is not in the vocabulary: the model falls back to its bytes, and
    // they render as the escapes the tokenizer would produce.
    let ids = tokenizer.encode("ż", false).unwrap().get_ids().to_vec();
    let displays: Vec<&str> = ids
        .iter()
        .map(|&id| v.get(id).unwrap().display.as_str())
        .collect();
    assert_eq!(displays, ["␣", "#<C5>", "#<BC>"]);

    // The rendered texts put together are what the tokenizer decodes, but for
    // the leading space its Strip removes.
    let (ours, theirs) = rendered(&tokenizer, &v, "dieta łódź");
    assert_eq!(ours, " dieta łódź");
    assert_eq!(ours.strip_prefix(' '), Some(theirs.as_str()));
}

/// Gemma: SentencePiece BPE with byte fallback and no dummy prefix (no
/// Prepend, no Strip); whitespace and newlines are pieces of their own.
fn gemma() -> Tokenizer {
    let mut pieces = strings(&["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]);
    pieces.extend(byte_pieces());
    pieces.extend(strings(&[
        "\n",
        "▁▁▁▁",
        "dieta",
        "▁dieta",
        "owa",
        "▁łódź",
        "▁",
        "ł",
        "ó",
        "d",
        "ź",
    ]));
    let start = pieces.len() as u32;
    tokenizer(
        vec![
            added(0, "<pad>", true),
            added(1, "<eos>", true),
            added(2, "<bos>", true),
            added(3, "<unk>", true),
            added(4, "<mask>", true),
            added(start, "<start_of_turn>", true),
            added(start + 1, "<end_of_turn>", true),
            added(start + 2, "<h1>", false),
        ],
        json!({
            "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"}
            ]},
            "model": {
                "type": "BPE", "dropout": null, "unk_token": "<unk>",
                "continuing_subword_prefix": null, "end_of_word_suffix": null,
                "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
                "vocab": vocab_object(0, &pieces), "merges": []
            }
        }),
    )
}

#[test]
fn gemma_sentencepiece_without_dummy_prefix() {
    let tokenizer = gemma();
    let v = vocabulary(&tokenizer);
    assert_eq!(
        v.scheme(),
        &Scheme::SentencePiece {
            marker: '▁',
            byte_fallback: true
        }
    );
    renders(&v, "▁dieta", " dieta", "dieta");
    // Without a dummy prefix, a text's first word has no marker: a piece
    // like any continuation.
    renders(&v, "dieta", "dieta", "#dieta");
    renders(&v, "\n", "\n", "#\\n");
    renders(&v, "▁▁▁▁", "    ", "   ");
    renders(&v, "<0xC5>", "<C5>", "#<C5>");
    for piece in [
        "<pad>",
        "<eos>",
        "<bos>",
        "<unk>",
        "<mask>",
        "<start_of_turn>",
    ] {
        is_special(&v, piece, true);
    }
    // A non-special added token is text: its content, flagged added.
    let h1 = token(&v, "<h1>");
    assert!(h1.added && !h1.special);
    assert_eq!((h1.text.as_str(), h1.display.as_str()), ("<h1>", "#<h1>"));

    let (ours, theirs) = rendered(&tokenizer, &v, "dieta łódź");
    assert_eq!(ours, "dieta łódź");
    assert_eq!(ours, theirs);
}

/// T5-style Unigram with a Metaspace pre-tokenizer and decoder.
fn unigram() -> Tokenizer {
    let pieces = [
        ("<pad>", 0.0),
        ("</s>", 0.0),
        ("<unk>", 0.0),
        ("▁", -2.0),
        ("▁dieta", -8.0),
        ("owa", -7.0),
        ("▁łódź", -9.0),
        ("ł", -6.0),
        ("ó", -6.0),
        ("d", -5.0),
        ("ź", -6.0),
        ("<0xC5>", -10.0),
        ("<extra_id_0>", 0.0),
    ];
    let metaspace = json!({
        "type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true
    });
    tokenizer(
        vec![
            added(0, "<pad>", true),
            added(1, "</s>", true),
            added(2, "<unk>", true),
            added(12, "<extra_id_0>", true),
        ],
        json!({
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "WhitespaceSplit"}, metaspace
            ]},
            "decoder": metaspace,
            "model": {
                "type": "Unigram", "unk_id": 2, "byte_fallback": false,
                "vocab": pieces.iter().map(|(p, s)| json!([p, s])).collect::<Vec<_>>()
            }
        }),
    )
}

#[test]
fn unigram_with_metaspace() {
    let tokenizer = unigram();
    let v = vocabulary(&tokenizer);
    assert_eq!(
        v.scheme(),
        &Scheme::SentencePiece {
            marker: '▁',
            byte_fallback: false
        }
    );
    renders(&v, "▁dieta", " dieta", "dieta");
    renders(&v, "owa", "owa", "#owa");
    renders(&v, "▁łódź", " łódź", "łódź");
    renders(&v, "▁", " ", "␣");
    // Without byte fallback, a piece spelled like a byte is just text.
    renders(&v, "<0xC5>", "<0xC5>", "#<0xC5>");
    assert!(!token(&v, "<0xC5>").fragment);
    for piece in ["<pad>", "</s>", "<unk>", "<extra_id_0>"] {
        is_special(&v, piece, true);
    }

    let (ours, theirs) = rendered(&tokenizer, &v, "dieta łódź");
    assert_eq!(ours, " dieta łódź");
    assert_eq!(ours.strip_prefix(' '), Some(theirs.as_str()));
}

/// A BPE model whose only SentencePiece part is a Metaspace pre-tokenizer
/// (prepend_scheme "first", as newer Llama and Mistral conversions write).
#[test]
fn metaspace_pre_tokenizer_alone_is_sentencepiece() {
    let pieces = strings(&["<unk>", "▁dieta", "owa"]);
    let tokenizer = tokenizer(
        vec![added(0, "<unk>", true)],
        json!({
            "pre_tokenizer": {
                "type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false
            },
            "model": {
                "type": "BPE", "dropout": null, "unk_token": "<unk>",
                "continuing_subword_prefix": null, "end_of_word_suffix": null,
                "fuse_unk": true, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab_object(0, &pieces), "merges": []
            }
        }),
    );
    let v = vocabulary(&tokenizer);
    assert!(matches!(v.scheme(), Scheme::SentencePiece { .. }));
    renders(&v, "▁dieta", " dieta", "dieta");
    renders(&v, "owa", "owa", "#owa");
}

/// BERT: WordPiece with `##`, BertNormalizer, BertPreTokenizer and the
/// WordPiece decoder. `[unused0]` is an ordinary vocabulary entry, as in
/// bert-base.
fn bert() -> Tokenizer {
    let pieces = strings(&[
        "[PAD]",
        "[unused0]",
        "[unused1]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "#",
        "##",
        "###",
        "[",
        ",",
        "##,",
        "dieta",
        "##owa",
        "łódź",
        "##ł",
        "ł",
        "##ó",
        "2024",
    ]);
    tokenizer(
        vec![
            added(0, "[PAD]", true),
            added(3, "[UNK]", true),
            added(4, "[CLS]", true),
            added(5, "[SEP]", true),
            added(6, "[MASK]", true),
        ],
        json!({
            "normalizer": {
                "type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                "strip_accents": null, "lowercase": false
            },
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
            "model": {
                "type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                "max_input_chars_per_word": 100, "vocab": vocab_object(0, &pieces)
            }
        }),
    )
}

#[test]
fn bert_wordpiece() {
    let tokenizer = bert();
    let v = vocabulary(&tokenizer);
    assert_eq!(
        v.scheme(),
        &Scheme::WordPiece {
            prefix: "##".into()
        }
    );
    // No leading-space marker in the vocabulary: a piece without `##` starts a
    // word, and its text gets the space every word-initial text starts with.
    renders(&v, "dieta", " dieta", "dieta");
    renders(&v, "##owa", "owa", "#owa");
    renders(&v, "łódź", " łódź", "łódź");
    renders(&v, "##ł", "ł", "#ł");
    renders(&v, "ł", " ł", "ł");
    renders(&v, ",", " ,", ",");
    renders(&v, "##,", ",", "#,");
    renders(&v, "[", " [", "[");
    renders(&v, "#", " #", "#");
    renders(&v, "###", "#", "##");
    for piece in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] {
        is_special(&v, piece, true);
    }
    // Reserved slots are not added tokens, but no text can produce them: the
    // pre-tokenizer splits them (`[`, `unused0`, `]`; the bare prefix `##`
    // into `#`, `#`).
    for piece in ["[unused0]", "[unused1]", "##"] {
        is_special(&v, piece, false);
    }

    let ids = tokenizer
        .encode("dietaowa", false)
        .unwrap()
        .get_ids()
        .to_vec();
    let displays: Vec<&str> = ids
        .iter()
        .map(|&id| v.get(id).unwrap().display.as_str())
        .collect();
    assert_eq!(displays, ["dieta", "#owa"]);

    let (ours, theirs) = rendered(&tokenizer, &v, "dieta łódź dietaowa");
    assert_eq!(ours, " dieta łódź dietaowa");
    assert_eq!(ours.strip_prefix(' '), Some(theirs.as_str()));
}

/// Llama 3 and Qwen: byte-level BPE behind a regex Split, with added special
/// tokens (and, in Qwen, non-special added ones).
fn byte_level(added_tokens: &[(&str, bool)]) -> Tokenizer {
    let lodz = stand_ins("ł");
    let mut pieces = vec![
        stand_ins(" dieta"),
        stand_ins("owa"),
        stand_ins(" łódź"),
        stand_ins("\n"),
        stand_ins(" "),
        lodz.chars().take(1).collect(),
        lodz.chars().skip(1).collect(),
    ];
    for c in "dieta łódź".chars() {
        let piece = stand_ins(&c.to_string());
        if !pieces.contains(&piece) {
            pieces.push(piece);
        }
    }
    let first = pieces.len() as u32;
    let added_tokens = added_tokens
        .iter()
        .enumerate()
        .map(|(i, &(content, special))| added(first + i as u32, content, special))
        .collect();
    tokenizer(
        added_tokens,
        json!({
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
                    "behavior": "Isolated", "invert": false
                },
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}
            ]},
            "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
            "model": {
                "type": "BPE", "dropout": null, "unk_token": null,
                "continuing_subword_prefix": null, "end_of_word_suffix": null,
                "fuse_unk": false, "byte_fallback": false, "ignore_merges": true,
                "vocab": vocab_object(0, &pieces), "merges": []
            }
        }),
    )
}

#[track_caller]
fn byte_level_pieces_render(v: &Vocabulary) {
    assert_eq!(v.scheme(), &Scheme::ByteLevel);
    renders(v, &stand_ins(" dieta"), " dieta", "dieta");
    renders(v, &stand_ins("owa"), "owa", "#owa");
    renders(v, &stand_ins(" łódź"), " łódź", "łódź");
    renders(v, &stand_ins("\n"), "\n", "#\\n");
    renders(v, &stand_ins(" "), " ", "␣");
    let lodz: Vec<char> = stand_ins("ł").chars().collect();
    renders(v, &lodz[0].to_string(), "<C5>", "#<C5>");
    renders(v, &lodz[1].to_string(), "<82>", "#<82>");
}

#[test]
fn llama3_byte_level_with_special_tokens() {
    let tokenizer = byte_level(&[
        ("<|begin_of_text|>", true),
        ("<|end_of_text|>", true),
        ("<|reserved_special_token_0|>", true),
    ]);
    let v = vocabulary(&tokenizer);
    byte_level_pieces_render(&v);
    for piece in [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|reserved_special_token_0|>",
    ] {
        is_special(&v, piece, true);
    }
    let (ours, theirs) = rendered(&tokenizer, &v, " dieta łódź");
    assert_eq!(ours, theirs);
}

#[test]
fn qwen_byte_level_with_added_tokens() {
    let tokenizer = byte_level(&[
        ("<|endoftext|>", true),
        ("<|im_start|>", true),
        ("<|im_end|>", true),
        ("<tool_call>", false),
        ("żółw", false),
    ]);
    let v = vocabulary(&tokenizer);
    byte_level_pieces_render(&v);
    for piece in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] {
        is_special(&v, piece, true);
    }
    let tool_call = token(&v, "<tool_call>");
    assert!(tool_call.added && !tool_call.special);
    assert_eq!(tool_call.text, "<tool_call>");
    // An added token's content is plain text, never stand-ins: `ż`, `ó` and
    // `ł` here are letters, not bytes.
    let word = token(&v, "żółw");
    assert!(word.added && !word.special && !word.fragment);
    assert_eq!(
        (word.text.as_str(), word.display.as_str()),
        ("żółw", "#żółw")
    );
    assert_eq!(word.chars, 4);
}

#[test]
fn byte_level_pre_tokenizer_alone_is_byte_level() {
    let pieces = vec![stand_ins(" dieta")];
    let tokenizer = tokenizer(
        vec![],
        json!({
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
            "model": {
                "type": "BPE", "dropout": null, "unk_token": null,
                "continuing_subword_prefix": null, "end_of_word_suffix": null,
                "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab_object(0, &pieces), "merges": []
            }
        }),
    );
    let v = vocabulary(&tokenizer);
    assert_eq!(v.scheme(), &Scheme::ByteLevel);
    renders(&v, &stand_ins(" dieta"), " dieta", "dieta");
}

/// A BPE model trained with a continuation prefix, with or without the
/// WordPiece decoder, reads like WordPiece.
#[test]
fn bpe_with_continuation_prefix_reads_like_wordpiece() {
    let pieces = strings(&["dieta", "##owa"]);
    for decoder in [
        json!({"type": "WordPiece", "prefix": "##", "cleanup": true}),
        json!(null),
    ] {
        let tokenizer = tokenizer(
            vec![],
            json!({
                "pre_tokenizer": {"type": "Whitespace"},
                "decoder": decoder,
                "model": {
                    "type": "BPE", "dropout": null, "unk_token": null,
                    "continuing_subword_prefix": "##", "end_of_word_suffix": null,
                    "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                    "vocab": vocab_object(0, &pieces), "merges": []
                }
            }),
        );
        let v = vocabulary(&tokenizer);
        assert_eq!(
            v.scheme(),
            &Scheme::WordPiece {
                prefix: "##".into()
            }
        );
        renders(&v, "dieta", " dieta", "dieta");
        renders(&v, "##owa", "owa", "#owa");
    }
}

#[test]
fn word_level_pieces_are_words() {
    let pieces = strings(&["[UNK]", "dieta", "łódź"]);
    let tokenizer = tokenizer(
        vec![added(0, "[UNK]", true)],
        json!({
            "pre_tokenizer": {"type": "Whitespace"},
            "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": vocab_object(0, &pieces)}
        }),
    );
    let v = vocabulary(&tokenizer);
    assert_eq!(v.scheme(), &Scheme::WordLevel);
    renders(&v, "dieta", " dieta", "dieta");
    renders(&v, "łódź", " łódź", "łódź");
    is_special(&v, "[UNK]", true);
}

/// CLIP-style BPE marks word ends (`</w>`), not starts: no piece can be said
/// to start a word, so the tokenizer is refused rather than mislabelled.
#[test]
fn unknown_scheme_is_refused_with_what_was_found() {
    let pieces = strings(&["dieta</w>", "ow", "a</w>"]);
    let json = json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": null, "post_processor": null,
        "pre_tokenizer": {"type": "Whitespace"},
        "decoder": {"type": "BPEDecoder", "suffix": "</w>"},
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null,
            "continuing_subword_prefix": null, "end_of_word_suffix": "</w>",
            "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab_object(0, &pieces), "merges": []
        }
    });
    let tokenizer = Tokenizer::from_str(&json.to_string()).unwrap();
    let unknown = Vocabulary::from_tokenizer(&tokenizer).unwrap_err();
    assert_eq!(unknown.model, "BPE");
    assert_eq!(unknown.pre_tokenizer, "Whitespace");
    assert_eq!(unknown.decoder, "BPEDecoder");
    assert!(unknown.to_string().contains("BPEDecoder"), "{unknown}");

    let path = std::env::temp_dir().join(format!("glossa-vocab-clip-{}.json", std::process::id()));
    std::fs::write(&path, json.to_string()).unwrap();
    let error = Vocabulary::from_file(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(&error, VocabError::Scheme { source, .. } if *source == unknown));
    assert!(error.to_string().contains(&*path.to_string_lossy()));
}

// ---------------------------------------------------------------- filters

#[test]
fn filters_classify_every_family_alike() {
    let llama2 = vocabulary(&llama2());
    let bert = vocabulary(&bert());
    let qwen = vocabulary(&byte_level(&[("<|im_start|>", true)]));
    let lodz_byte = stand_ins("ł").chars().take(1).collect::<String>();

    // A Polish word is letters, not ASCII, in every scheme.
    for (v, piece) in [
        (&llama2, "▁łódź"),
        (&bert, "łódź"),
        (&qwen, stand_ins(" łódź").as_str()),
    ] {
        let c = classes(v, piece);
        assert!(c.alpha && c.word && !c.ascii && !c.alnum, "{piece:?}");
        assert_eq!(c.chars, 4, "{piece:?}");
    }
    for (v, piece) in [(&llama2, "owa"), (&bert, "##owa")] {
        let c = classes(v, piece);
        assert!(c.alpha && c.ascii && c.alnum, "{piece:?}");
        assert_eq!(c.chars, 3);
    }
    // A byte of `ł` is no letter of any script, whichever way it is spelled.
    let byte = classes(&llama2, "<0xC5>");
    assert!(!byte.alpha && !byte.word && !byte.ascii && !byte.alnum);
    assert_eq!(byte.chars, 1);
    assert_eq!(byte, classes(&qwen, &lodz_byte));
    // A newline byte is ASCII but not a word.
    let newline = classes(&llama2, "<0x0A>");
    assert!(newline.ascii && !newline.alpha && !newline.word);
    let digits = classes(&bert, "2024");
    assert!(digits.word && digits.alnum && !digits.alpha);
    assert!(classes(&bert, "[").brackets && classes(&bert, "[unused0]").brackets);

    // Letters only, no specials: `[unused0]`, `[CLS]` and `<s>` go with the bytes.
    let kept = |v: &Vocabulary| -> Vec<String> {
        allowed_tokens(v, &[CharFilter::Alpha, CharFilter::NoSpecial])
            .iter()
            .zip(v.tokens())
            .filter(|(&allowed, _)| allowed)
            .map(|(_, t)| t.display.clone())
            .collect()
    };
    let bert_kept = kept(&bert);
    assert!(bert_kept.contains(&"dieta".into()) && bert_kept.contains(&"#owa".into()));
    assert!(!bert_kept.iter().any(|d| d.starts_with('[') || d == "2024"));
    let llama_kept = kept(&llama2);
    assert!(llama_kept.contains(&"łódź".into()) && llama_kept.contains(&"#ł".into()));
    assert!(!llama_kept.iter().any(|d| d.contains('<')));
}
