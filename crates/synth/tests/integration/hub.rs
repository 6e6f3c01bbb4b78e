use std::fs;

use glossa_synth::write_hub_cache;
use hf_hub::{Cache, Repo, RepoType};

use crate::support::{shipped, written};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn hub_cache_resolves_offline() {
    let model_dir = written(shipped());
    let cache_dir = tempfile::tempdir().expect("temp dir");
    for revision in ["main", "feature/plants"] {
        let snapshot = write_hub_cache(
            cache_dir.path(),
            "glossa/tiny-polish-gpt2",
            revision,
            COMMIT,
            model_dir.path(),
        )
        .expect("writes the cache");
        let repo_dir = cache_dir.path().join("models--glossa--tiny-polish-gpt2");
        assert_eq!(snapshot, repo_dir.join("snapshots").join(COMMIT));
        assert_eq!(
            fs::read_to_string(repo_dir.join("refs").join(revision)).expect("ref"),
            COMMIT
        );

        let cache = Cache::new(cache_dir.path().to_owned());
        let repo = cache.repo(Repo::with_revision(
            "glossa/tiny-polish-gpt2".to_owned(),
            RepoType::Model,
            revision.to_owned(),
        ));
        for name in [
            "config.json",
            "tokenizer.json",
            "model.safetensors",
            "plants.json",
        ] {
            let found = repo
                .get(name)
                .unwrap_or_else(|| panic!("{name} not in the cache"));
            assert_eq!(
                fs::read(&found).expect("read"),
                fs::read(model_dir.path().join(name)).expect("read")
            );
            let link = fs::read_link(&found).expect("a symlink");
            assert!(link.starts_with("../../blobs"), "{}", link.display());
        }
        assert!(repo.get("missing.json").is_none());
    }
    let blobs = fs::read_dir(
        cache_dir
            .path()
            .join("models--glossa--tiny-polish-gpt2/blobs"),
    )
    .expect("blobs")
    .count();
    assert_eq!(
        blobs, 4,
        "one blob per distinct file, shared by both revisions"
    );
}

#[test]
fn hub_cache_rejects_path_like_names() {
    let model_dir = written(shipped());
    let cache_dir = tempfile::tempdir().expect("temp dir");
    assert!(write_hub_cache(
        cache_dir.path(),
        "../evil",
        "main",
        COMMIT,
        model_dir.path()
    )
    .is_err());
    assert!(write_hub_cache(cache_dir.path(), "a/b", "main", "../x", model_dir.path()).is_err());
}
