//! Token lists from corpora restrict every list to tokens the corpus holds.

use std::path::Path;

use glossa_corpus::{count_tokens, CorpusSource};
use glossa_pipeline::{extract, ExtractConfig, Silent};
use glossa_tables::{read_head_rows, read_token_list, read_tokens};
use glossa_vocab::Vocabulary;

use crate::common::*;

const TEXTS: [&str; 3] = [
    "Dieta jest ważna dla zdrowia.",
    "Łódź to duże miasto, a dieta w Łodzi bywa różna.",
    "Żółw je sałatę. Dieta żółwia jest prosta.",
];

fn tokenizer_path() -> std::path::PathBuf {
    shipped_model_dir().join("tokenizer.json")
}

fn tokenizer() -> tokenizers::Tokenizer {
    tokenizers::Tokenizer::from_file(tokenizer_path()).unwrap()
}

/// Token counts computed here, independently of the corpus crate.
fn expected_counts() -> Vec<u64> {
    let tokenizer = tokenizer();
    let mut counts = vec![0u64; tokenizer.get_vocab_size(true)];
    for text in TEXTS {
        for &id in tokenizer.encode(text, false).unwrap().get_ids() {
            counts[id as usize] += 1;
        }
    }
    counts
}

fn count(files: &[std::path::PathBuf], column: &str) -> Vec<u64> {
    count_tokens(files, &tokenizer(), column, &|_| {})
        .unwrap()
        .counts()
        .to_vec()
}

#[test]
fn text_jsonl_and_csv_corpora_give_the_same_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("corpus.txt");
    std::fs::write(&text, TEXTS.join("\n") + "\n\n").unwrap();
    let jsonl = tmp.path().join("corpus.jsonl");
    let lines: Vec<String> = TEXTS
        .iter()
        .map(|t| serde_json::json!({ "id": 1, "tekst": t }).to_string())
        .collect();
    std::fs::write(&jsonl, lines.join("\n")).unwrap();
    let csv = tmp.path().join("corpus.csv");
    let rows: Vec<String> = TEXTS.iter().map(|t| format!("1,\"{t}\"")).collect();
    std::fs::write(&csv, format!("id,tekst\n{}\n", rows.join("\n"))).unwrap();

    let expected = expected_counts();
    assert_eq!(count(&[text], "text"), expected);
    assert_eq!(count(std::slice::from_ref(&jsonl), "tekst"), expected);
    assert_eq!(count(&[csv], "tekst"), expected);
    let error = count_tokens(&[jsonl], &tokenizer(), "text", &|_| {}).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no text column \"text\" (columns: id, tekst)"),
        "{error}"
    );
}

#[test]
fn hub_dataset_in_the_cache_is_read_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let commit = "1111111111111111111111111111111111111111";
    let repo = tmp.path().join("hub/datasets--glossa-test--polish");
    let snapshot = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(snapshot.join("data")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), commit).unwrap();
    let lines: Vec<String> = TEXTS
        .iter()
        .map(|t| serde_json::json!({ "text": t }).to_string())
        .collect();
    std::fs::write(snapshot.join("data/train.jsonl"), lines[..2].join("\n")).unwrap();
    std::fs::write(snapshot.join("data/test.jsonl"), &lines[2]).unwrap();
    std::fs::write(snapshot.join("README.md"), "not a corpus").unwrap();

    let source = CorpusSource::parse("hf://datasets/glossa-test/polish/data/*.jsonl");
    let files = source
        .files(&offline_hub(&tmp.path().join("hub")), &mut Silent)
        .unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(count(&files, "text"), expected_counts());
}

fn run(out: &Path, token_list: &str, max_tokens: Option<usize>) -> glossa_pipeline::Summary {
    let mut config = ExtractConfig::new(shipped_model_dir().to_str().unwrap());
    config.out = Some(out.to_path_buf());
    config.k = 10;
    config.head_k = 10;
    config.token_list = Some(token_list.to_string());
    config.max_tokens = max_tokens;
    extract(&config, &offline_hub(out), &Silent).unwrap()
}

#[test]
fn only_corpus_tokens_enter_lists_and_lists_stay_full() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, TEXTS.join("\n")).unwrap();
    let summary = run(&tmp.path().join("ds"), corpus.to_str().unwrap(), None);
    let vocabulary = Vocabulary::from_file(&tokenizer_path()).unwrap();
    let norm = |id: u32| glossa_index::normalize(&vocabulary.get(id).unwrap().text);
    let counts = expected_counts();
    let forms: std::collections::HashSet<String> = (0..counts.len())
        .filter(|&t| counts[t] > 0)
        .map(|t| norm(t as u32))
        .collect();
    let rows = all_rows(&summary.dir, 4);
    assert_eq!(
        rows.len(),
        4 * 256 * 2 * 2 * 10,
        "every list keeps k entries"
    );
    assert!(rows.iter().all(|r| forms.contains(&norm(r.token_id))));
    // Case and the word-initial marker are ignored: "Dieta" in the text allows " dieta".
    assert!(rows.iter().any(|r| r.token == "dieta"));
    let heads = read_head_rows(&summary.dir.join("heads/layer-000.parquet"), None).unwrap();
    assert!(heads
        .iter()
        .all(|r| forms.contains(&norm(r.src_token_id)) && forms.contains(&norm(r.dst_token_id))));
    let tokens = read_tokens(&summary.dir.join("tokens.parquet")).unwrap();
    assert!(tokens
        .iter()
        .all(|t| t.allowed == forms.contains(&t.normalized)));

    // The saved list is reusable and gives the same tables.
    let saved = summary.dir.join("token_list.parquet");
    let list = read_token_list(&saved).unwrap();
    assert_eq!(
        list.iter().map(|p| p.1).sum::<u64>(),
        counts.iter().sum::<u64>()
    );
    let again = run(&tmp.path().join("again"), saved.to_str().unwrap(), None);
    let tables = |s: &glossa_pipeline::Summary| {
        s.manifest
            .tables
            .iter()
            .filter(|t| t.path.contains("layer-"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(tables(&again), tables(&summary));
}

#[test]
fn max_tokens_keeps_the_most_frequent() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, TEXTS.join("\n")).unwrap();
    let summary = run(&tmp.path().join("ds"), corpus.to_str().unwrap(), Some(12));
    let list = read_token_list(&summary.dir.join("token_list.parquet")).unwrap();
    assert_eq!(list.len(), 12);
    let counts = expected_counts();
    let mut expected: Vec<(u32, u64)> = (0..counts.len())
        .filter(|&t| counts[t] > 0)
        .map(|t| (t as u32, counts[t]))
        .collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    expected.truncate(12);
    assert_eq!(list, expected);
}
