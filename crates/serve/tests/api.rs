//! Every endpoint of the JSON API, and a battery of bad requests: each gets
//! a 4xx (a JSON error under /api/), never a 500.

use serde_json::Value;

use crate::common::{get, send, NAME, PLANTED};

fn api(rest: &str) -> String {
    format!("/api/v1/datasets/{NAME}{rest}")
}

fn ok(target: &str) -> Value {
    let response = get(target);
    assert_eq!(response.status, 200, "{target}: {}", response.text());
    assert!(response.headers.contains("content-type: application/json"));
    response.json()
}

/// Tokens of a JSON list, without the word-initial space.
fn tokens(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["token"].as_str().unwrap().trim().to_string())
        .collect()
}

#[test]
fn lists_and_describes_the_datasets() {
    let list = ok("/api/v1/datasets");
    assert_eq!(list[0]["name"], NAME);
    assert_eq!(list[0]["layers"], 4);
    let info = ok(&api(""));
    assert_eq!(info["dataset"], NAME);
    assert_eq!(info["manifest"]["shape"]["layers"], 4);
    assert_eq!(info["manifest"]["options"]["k"], 50);
}

#[test]
fn search_finds_the_planted_units_first() {
    // By |z|: the planted heads' pairs first, then the planted neuron is the
    // first neuron.
    let answer = ok(&api("/search?q=dieta&limit=100"));
    let hits = answer["hits"].as_array().unwrap();
    assert!(answer["total"].as_u64().unwrap() > 100);
    let first = |kind: &str| {
        hits.iter()
            .find(|h| h["kind"] == kind)
            .map(|h| (h["layer"].as_u64().unwrap(), h["unit"].as_u64().unwrap()))
    };
    assert_eq!(first("head"), Some((3, 1)));
    let neurons = ok(&api("/search?q=dieta&kind=neuron&limit=1"));
    let neuron = &neurons["hits"][0];
    assert_eq!(
        (neuron["layer"].as_u64(), neuron["unit"].as_u64()),
        (Some(2), Some(17))
    );
    assert!(hits[0]["z"].as_f64().unwrap() > hits[99]["z"].as_f64().unwrap().abs());
    // Ranked by rank when asked.
    let by_rank = ok(&api("/search?q=dieta&sort=rank&limit=5"));
    assert!(by_rank["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["rank"] == 1));

    // The CLI's filters.
    let hits = ok(&api(
        "/search?q=dieta&kind=neuron&side=value&layer=2&polarity=top&limit=3",
    ));
    let hits = hits["hits"].as_array().unwrap();
    assert!(hits.len() <= 3);
    assert_eq!(
        (hits[0]["layer"].as_u64(), hits[0]["unit"].as_u64()),
        (Some(2), Some(17))
    );
    assert!(hits
        .iter()
        .all(|h| h["side"] == "value" && h["polarity"] == "top"));

    let pair = ok(&api("/search?q=dieta%20-%3E%20zdrowie&circuit=qk"));
    let first = &pair["hits"][0];
    assert_eq!(
        (first["layer"].as_u64(), first["unit"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(first["circuit"], "qk");

    // Diacritics folded by default, kept with exact=true.
    assert!(!ok(&api("/search?q=lodz"))["hits"]
        .as_array()
        .unwrap()
        .is_empty());
    let exact = ok(&api(
        "/search?q=lodz&exact=true&kind=neuron&side=key&layer=1",
    ));
    assert!(exact["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["unit"] != 101));
}

#[test]
fn neuron_head_and_token_endpoints() {
    let neuron = ok(&api("/neurons/2/17"));
    let values = tokens(&neuron["value"]["top"]);
    for planted in PLANTED {
        assert!(values[..5].contains(&planted.to_string()), "{values:?}");
    }
    assert_eq!(neuron["value"]["top"][0]["rank"], 1);
    assert_eq!(neuron["key"]["bottom"].as_array().unwrap().len(), 50);
    assert!(tokens(&ok(&api("/neurons/1/101"))["key"]["top"]).contains(&"łódź".to_string()));

    let head = ok(&api("/heads/3/1"));
    assert!(head["vo"]["copying_score"].is_number());
    assert!(head["qk"]["copying_score"].is_null());
    let vo = head["vo"]["pairs"]["top"].as_array().unwrap();
    assert_eq!(vo.len(), 100);
    assert!(vo[..10]
        .iter()
        .any(|p| p["src_token"].as_str().unwrap().trim() == "dieta"));
    let qk = ok(&api("/heads/2/2"))["qk"]["pairs"]["top"][0].clone();
    assert_eq!(qk["src_token"].as_str().unwrap().trim(), "dieta");
    assert_eq!(qk["dst_token"].as_str().unwrap().trim(), "zdrowie");

    let token = ok(&api("/tokens/dieta"));
    let layer2 = token["layers"]["2"].as_array().unwrap();
    assert!(layer2
        .iter()
        .any(|h| h["kind"] == "neuron" && h["unit"] == 17 && h["side"] == "value"));
    assert!(token["by_layer"].as_array().unwrap().len() >= 2);
    // Percent-escaped UTF-8 in the path.
    let lodz = ok(&api("/tokens/%C5%82%C3%B3d%C5%BA"));
    assert!(lodz["layers"]["1"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["unit"] == 101));
}

#[test]
fn scatters_are_svg() {
    for target in [api("/neurons/2/17/tsne/value"), api("/heads/3/1/tsne/vo")] {
        let response = get(&target);
        assert_eq!(response.status, 200, "{target}: {}", response.text());
        assert!(response.headers.contains("content-type: image/svg+xml"));
        assert!(response.text().starts_with("<svg"));
    }
    assert!(get(&api("/neurons/2/17/tsne/value"))
        .text()
        .contains(">dieta</text>"));
}

#[test]
fn pages_answer_with_html() {
    for target in [
        "/".to_string(),
        format!("/d/{NAME}"),
        format!("/d/{NAME}/search?q=dieta&kind=neuron"),
        format!("/d/{NAME}/neuron/2/17"),
        format!("/d/{NAME}/head/3/1"),
        format!("/d/{NAME}/layer/2"),
        format!("/d/{NAME}/token/dieta"),
        "/assets/style.css".to_string(),
        "/assets/app.js".to_string(),
    ] {
        let response = get(&target);
        assert_eq!(response.status, 200, "{target}: {}", response.text());
    }
    let page = get(&format!("/d/{NAME}/neuron/2/17")).text();
    for planted in PLANTED {
        assert!(page.contains(&format!(">{planted}</a>")), "{planted}");
    }
    assert!(page.contains(&format!("href=\"/d/{NAME}/token/dieta\"")));
    assert!(page.contains(&format!("href=\"/d/{NAME}/layer/2\"")));
    let head = get(&format!("/d/{NAME}/head/3/1")).text();
    assert!(head.contains("copying score"));
    let missing = get(&format!("/d/{NAME}/neuron/9/0"));
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("layer 9 does not exist"));
}

/// Requests no handler can answer, with the status each must get.
fn bad_requests() -> Vec<(String, u16)> {
    let long = "a".repeat(5000);
    vec![
        ("/api/v1/datasets/nope".into(), 404),
        ("/api/v1/datasets/nope/search?q=dieta".into(), 404),
        (api("/neurons/99/0"), 404),
        (api("/neurons/0/999999"), 404),
        (api("/heads/0/99"), 404),
        (api("/heads/99/0"), 404),
        (api("/neurons/x/1"), 400),
        (api("/neurons/-1/1"), 400),
        (api("/neurons/99999999999/1"), 400),
        (api("/neurons/1"), 404),
        (api("/neurons/2/17/tsne/gate"), 404),
        (api("/heads/3/1/tsne/ov"), 404),
        (api("/neurons/99/0/tsne/key"), 404),
        ("/api/v1/datasets/..%2F..%2Fetc/search?q=a".into(), 404),
        ("/api/v1/datasets/../../etc/passwd".into(), 404),
        ("/api/v1/datasets/%2E%2E/neurons/0/0".into(), 404),
        ("/assets/..%2F..%2FCargo.toml".into(), 404),
        ("/assets/../../Cargo.toml".into(), 404),
        (api("/search?q=%FF"), 400),
        (api("/search?q=%C3%28"), 400),
        (api("/search?q=%zz"), 400),
        (api("/tokens/%FF"), 400),
        ("/api/v1/datasets/%FF".into(), 400),
        (api(&format!("/search?q={long}")), 414),
        (api(&format!("/tokens/{long}")), 414),
        (api("/search"), 400),
        (api("/search?q="), 400),
        (api("/search?q=%20%20"), 400),
        (api("/search?q=*"), 400),
        (api("/search?q=dieta~9"), 400),
        (api("/search?q=-%3E%20a"), 400),
        (api("/search?q=dieta&limit=0"), 400),
        (api("/search?q=dieta&limit=100000"), 400),
        (api("/search?q=dieta&limit=-1"), 400),
        (api("/search?q=dieta&kind=robot"), 400),
        (api("/search?q=dieta&side=key&circuit=vo"), 400),
        (api("/search?q=dieta&kind=head&side=key"), 400),
        (api("/search?q=dieta&layer=99"), 404),
        (api("/search?q=dieta&layer=x"), 400),
        (api("/search?q=dieta&exact=maybe"), 400),
        (api("/search?q=dieta&unknown=1"), 400),
        ("/api/v2/datasets".into(), 404),
        ("/api/v1/nothing".into(), 404),
        (format!("/d/{NAME}/neuron/99/0"), 404),
        (format!("/d/{NAME}/head/0/99"), 404),
        (format!("/d/{NAME}/layer/99"), 404),
        (format!("/d/{NAME}/token/%FF"), 400),
        (format!("/d/{NAME}/token/*"), 400),
        ("/d/..%2F..%2Fetc/neuron/0/0".into(), 404),
        ("/d/nope".into(), 404),
        ("/nothing".into(), 404),
    ]
}

#[test]
fn bad_requests_get_4xx_never_500() {
    for (target, status) in bad_requests() {
        let response = get(&target);
        assert_eq!(response.status, status, "{target}: {}", response.text());
        if target.starts_with("/api/") {
            let body = response.json();
            assert_eq!(body["error"]["status"], status, "{target}");
            assert!(body["error"]["message"].as_str().unwrap().len() > 3);
        } else {
            assert!(response.text().contains("<h1>"), "{target}");
        }
    }
}

#[test]
fn malformed_http_gets_4xx() {
    // A query of 1 MB: refused before any handler runs.
    let huge = format!(
        "GET {}?q={} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        api("/search"),
        "a".repeat(1 << 20)
    );
    let status = send(huge.as_bytes()).status;
    assert!((400..500).contains(&status), "{status}");
    // Raw bytes that are not UTF-8 (nor ASCII) in the request line.
    let mut raw = format!("GET {}?q=", api("/search")).into_bytes();
    raw.extend_from_slice(b"\xff\xfe HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let status = send(&raw).status;
    assert!((400..500).contains(&status), "{status}");
    // Writes are refused: the server is read-only.
    let post = format!(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}",
        api("/search")
    );
    let response = send(post.as_bytes());
    assert_eq!(response.status, 405);
    assert_eq!(response.json()["error"]["status"], 405);
}
