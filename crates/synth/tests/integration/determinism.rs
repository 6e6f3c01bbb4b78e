use std::fs;
use std::path::Path;

use glossa_synth::presets;

use crate::support::{files, written};

fn assert_same_files(a: &Path, b: &Path) {
    let (names_a, names_b) = (files(a), files(b));
    let names = |files: &[std::path::PathBuf]| -> Vec<_> {
        files
            .iter()
            .map(|f| f.file_name().map(|n| n.to_owned()))
            .collect()
    };
    assert_eq!(names(&names_a), names(&names_b));
    for (fa, fb) in names_a.iter().zip(&names_b) {
        let (bytes_a, bytes_b) = (fs::read(fa).expect("read"), fs::read(fb).expect("read"));
        assert!(
            bytes_a == bytes_b,
            "{} differs from {}",
            fa.display(),
            fb.display()
        );
    }
}

#[test]
fn shipped_model_regenerates_byte_for_byte() {
    let first = written(&presets::shipped().expect("generates"));
    let second = written(&presets::shipped().expect("generates"));
    assert_same_files(first.path(), second.path());
}

#[test]
fn untied_model_regenerates_byte_for_byte() {
    let first = written(&presets::untied_test().expect("generates"));
    let second = written(&presets::untied_test().expect("generates"));
    assert_same_files(first.path(), second.path());
}

/// The committed model is what `glossa-synth shipped` writes today; when the
/// generator or the corpus changes, regenerate it.
#[test]
fn committed_model_is_up_to_date() {
    let committed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/models/tiny-polish-gpt2");
    let fresh = written(&presets::shipped().expect("generates"));
    for file in files(fresh.path()) {
        let name = file.file_name().expect("file name");
        let expected = fs::read(&file).expect("read");
        let actual = fs::read(committed.join(name)).expect("committed file exists");
        assert!(
            expected == actual,
            "data/models/tiny-polish-gpt2/{} is stale: run `cargo run -p glossa-synth -- shipped data/models/tiny-polish-gpt2`",
            name.to_string_lossy()
        );
    }
}
