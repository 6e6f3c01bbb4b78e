//! An MCP client session with the server over an in-memory pipe (the bytes
//! `glossa mcp` reads and writes on stdio): initialise, list the tools, call them.

use std::sync::Arc;

use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::{ClientHandler, ServiceExt};
use serde_json::json;

use glossa_serve::McpServer;

use crate::common::catalog;

#[derive(Clone, Default)]
struct Client;

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

fn call(name: &'static str, arguments: serde_json::Value) -> CallToolRequestParams {
    CallToolRequestParams::new(name).with_arguments(arguments.as_object().unwrap().clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_asks_which_neurons_mention_dieta() {
    let (server_side, client_side) = tokio::io::duplex(1 << 16);
    let server = McpServer::new(Arc::new(catalog()));
    let running = tokio::spawn(async move {
        server
            .serve(server_side)
            .await
            .unwrap()
            .waiting()
            .await
            .unwrap();
    });
    let client = Client.serve(client_side).await.expect("initialised");

    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(names, ["info", "search", "show_head", "show_neuron"]);
    let search = tools.iter().find(|t| t.name == "search").unwrap();
    let properties = search.input_schema["properties"].as_object().unwrap();
    for field in [
        "q", "kind", "layer", "side", "circuit", "polarity", "dataset",
    ] {
        assert!(properties.contains_key(field), "{field}: {properties:?}");
    }

    let result = client
        .call_tool(call(
            "search",
            json!({"q": "dieta", "kind": "neuron", "side": "value"}),
        ))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true));
    let hits = &result.structured_content.as_ref().unwrap()["hits"];
    assert_eq!(
        (hits[0]["layer"].as_u64(), hits[0]["unit"].as_u64()),
        (Some(2), Some(17))
    );

    let neuron = client
        .call_tool(call("show_neuron", json!({"layer": 2, "unit": 17})))
        .await
        .unwrap();
    let top = &neuron.structured_content.as_ref().unwrap()["value"]["top"][0];
    assert_eq!(top["token"].as_str().unwrap().trim(), "dieta");

    let head = client
        .call_tool(call("show_head", json!({"layer": 3, "unit": 1})))
        .await
        .unwrap();
    assert!(head.structured_content.as_ref().unwrap()["vo"]["copying_score"].is_number());

    let info = client.call_tool(call("info", json!({}))).await.unwrap();
    assert_eq!(
        info.structured_content.as_ref().unwrap()["manifest"]["shape"]["layers"],
        4
    );

    // A question that cannot be answered is a tool error that says why.
    let missing = client
        .call_tool(call("show_neuron", json!({"layer": 9, "unit": 0})))
        .await
        .unwrap();
    assert_eq!(missing.is_error, Some(true));
    let text = missing.content[0].as_text().unwrap().text.clone();
    assert!(text.contains("layer 9 does not exist"), "{text}");

    client.cancel().await.unwrap();
    running.await.unwrap();
}
