//! A shard (an extraction of some layers, issue 13) is served with the
//! layers it holds: no link leads to a layer it lacks, and asking for one is
//! a 404 that says which layers it holds.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use glossa_load::HubOptions;
use glossa_pipeline::{extract, ExtractConfig, Silent};
use glossa_serve::Catalog;
use glossa_tables::LayerRange;

use crate::common::{get_from, serve};

/// Layers 1 and 2 of the shipped model, served as `shard`.
fn shard_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let out: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("serve-tests")
            .join("shard");
        let model =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/models/tiny-polish-gpt2");
        let model = std::fs::canonicalize(model).expect("the shipped model");
        let mut config = ExtractConfig::new(model.display().to_string());
        config.out = Some(out.clone());
        config.k = 10;
        config.head_k = 10;
        config.layers = Some(LayerRange::new(1, 3).unwrap());
        config.force = true;
        extract(&config, &HubOptions::from_env(), &Silent).expect("extraction");
        serve(Catalog::open(&[out], &HubOptions::from_env(), &|_| {}).unwrap())
    })
}

#[test]
fn a_shard_links_only_to_its_layers_and_refuses_the_others() {
    let address = shard_server();
    let page = |target: &str| {
        let response = get_from(address, target);
        assert_eq!(response.status, 200, "{target}: {}", response.text());
        response.text()
    };
    let home = page("/d/shard");
    for layer in [1, 2] {
        assert!(
            home.contains(&format!("href=\"/d/shard/layer/{layer}\"")),
            "layer {layer}"
        );
    }
    for layer in [0, 3] {
        assert!(
            !home.contains(&format!("/d/shard/layer/{layer}\"")),
            "layer {layer}: {home}"
        );
    }
    assert!(
        home.contains("layers 1–2 of 4"),
        "the manifest says it is a shard"
    );
    // The pager stops at the shard's ends.
    let first = page("/d/shard/layer/1");
    assert!(first.contains("/d/shard/layer/2\"") && !first.contains("/d/shard/layer/0\""));
    let last = page("/d/shard/layer/2");
    assert!(last.contains("/d/shard/layer/1\"") && !last.contains("/d/shard/layer/3\""));
    let search = page("/d/shard/search?q=dieta");
    assert!(search.contains("<option>2</option>") && !search.contains("<option>0</option>"));
    page("/d/shard/neuron/2/17");
    // Layers of other shards: 404, naming the layers this one holds.
    for target in [
        "/d/shard/layer/0",
        "/d/shard/neuron/3/0",
        "/d/shard/head/0/1",
        "/api/v1/datasets/shard/neurons/0/0",
        "/api/v1/datasets/shard/search?q=dieta&layer=3",
    ] {
        let response = get_from(address, target);
        assert_eq!(response.status, 404, "{target}: {}", response.text());
        assert!(
            response
                .text()
                .contains("is not in this shard: it holds layers 1–2 of the model"),
            "{target}: {}",
            response.text()
        );
    }
    let found = get_from(address, "/api/v1/datasets/shard/search?q=dieta");
    assert_eq!(found.status, 200);
    let hits = found.json();
    let layers: Vec<u64> = hits["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["layer"].as_u64())
        .collect();
    assert!(
        !layers.is_empty() && layers.iter().all(|l| (1..3).contains(l)),
        "{layers:?}"
    );
}
