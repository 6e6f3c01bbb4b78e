//! Models shared by the tests (each generated once per test binary) and
//! small helpers for reading them back.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use glossa_synth::{presets, SynthModel};

pub fn shipped() -> &'static SynthModel {
    static MODEL: OnceLock<SynthModel> = OnceLock::new();
    MODEL.get_or_init(|| presets::shipped().expect("the shipped model generates"))
}

pub fn untied() -> &'static SynthModel {
    static MODEL: OnceLock<SynthModel> = OnceLock::new();
    MODEL.get_or_init(|| presets::untied_test().expect("the untied model generates"))
}

pub fn bench_quick() -> &'static SynthModel {
    static MODEL: OnceLock<SynthModel> = OnceLock::new();
    MODEL.get_or_init(|| presets::bench(true).expect("the quick bench model generates"))
}

/// `model` written into a fresh temporary directory.
pub fn written(model: &SynthModel) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    model.write(dir.path()).expect("the model writes");
    dir
}

/// The files of `dir`, sorted by name.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    files
}

/// Little-endian f16/bf16/f32 bytes of a safetensors view, widened to f32.
pub fn decode(view: &safetensors::tensor::TensorView<'_>) -> Vec<f32> {
    let data = view.data();
    match view.dtype() {
        safetensors::Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        safetensors::Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        safetensors::Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => panic!("unexpected dtype {other:?}"),
    }
}
