//! `glossa mcp`: the same questions as the JSON API, as Model Context
//! Protocol tools over stdio, so that an agent can ask "which neurons
//! mention dieta" directly.
//!
//! Each tool answers with the JSON the API gives for the same question (as
//! structured content and as text); a question that cannot be answered is a
//! tool error whose text says why.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ServerHandler, ServiceExt};
use serde::{Deserialize, Serialize};

use crate::answers::{self, SearchParams};
use crate::api::blocking;
use crate::catalog::Catalog;
use crate::error::{ApiError, ServeError};

/// The MCP server over a [`Catalog`].
#[derive(Clone)]
pub struct McpServer {
    catalog: Arc<Catalog>,
    tool_router: ToolRouter<McpServer>,
}

/// Which dataset, when several are served.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct DatasetParam {
    /// The dataset's name (its directory's name); may be left out when one
    /// dataset is served.
    pub dataset: Option<String>,
}

/// `search`: the dataset, then the search.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchTool {
    #[serde(flatten)]
    pub dataset: DatasetParam,
    #[serde(flatten)]
    pub search: SearchParams,
}

/// `show_neuron` and `show_head`: the dataset, a layer and a unit.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct UnitTool {
    #[serde(flatten)]
    pub dataset: DatasetParam,
    /// Layer, from 0.
    pub layer: u32,
    /// The neuron's or head's index within its layer, from 0.
    pub unit: u32,
}

type ToolResult = Result<CallToolResult, String>;

/// An answer as a tool result, or its error's message.
fn answer<T: Serialize>(result: Result<T, ApiError>) -> ToolResult {
    let value = result.map_err(|e| e.message)?;
    let json = serde_json::to_value(value).map_err(|e| e.to_string())?;
    Ok(CallToolResult::structured(json))
}

#[tool_router]
impl McpServer {
    pub fn new(catalog: Arc<Catalog>) -> McpServer {
        McpServer {
            catalog,
            tool_router: McpServer::tool_router(),
        }
    }

    #[tool(
        description = "Find the neuron and attention-head lists that hold a token (or, for heads, a pair of tokens), strongest first. Query syntax: `dieta`, a prefix `diet*`, fuzzy `dieta~1`, a continuation piece `#owa`, a pair `dieta -> zdrowie`. Case, diacritics and the word-initial space are ignored unless exact is true. Each hit names its layer, unit, list (side or circuit, polarity), rank and score."
    )]
    async fn search(&self, Parameters(tool): Parameters<SearchTool>) -> ToolResult {
        let served = self.pick(&tool.dataset)?;
        answer(blocking(move || answers::search(&served, &tool.search)).await)
    }

    #[tool(
        description = "One feed-forward neuron's lists: the tokens its key (what it reads) and its value (what it writes) score highest (top) and lowest (bottom), with ranks and scores."
    )]
    async fn show_neuron(&self, Parameters(tool): Parameters<UnitTool>) -> ToolResult {
        let served = self.pick(&tool.dataset)?;
        answer(blocking(move || answers::neuron(&served, tool.layer, tool.unit)).await)
    }

    #[tool(
        description = "One attention head: its VO pairs (attending to src promotes dst) and QK pairs (a query at src attends to a key at dst), both ends, with the circuit summaries (Frobenius norm, extreme entries, copying score)."
    )]
    async fn show_head(&self, Parameters(tool): Parameters<UnitTool>) -> ToolResult {
        let served = self.pick(&tool.dataset)?;
        answer(blocking(move || answers::head(&served, tool.layer, tool.unit)).await)
    }

    #[tool(
        description = "The served datasets, or one dataset's manifest: the model, its shape (layers, heads, neurons), how the lists were extracted (k, filters), row counts."
    )]
    async fn info(&self, Parameters(tool): Parameters<DatasetParam>) -> ToolResult {
        match tool.dataset {
            None if self.catalog.datasets().len() > 1 => {
                answer(Ok(answers::datasets(&self.catalog)))
            }
            _ => {
                let served = self.pick(&tool)?;
                answer(Ok(answers::info(&served)))
            }
        }
    }
}

impl McpServer {
    fn pick(&self, param: &DatasetParam) -> Result<Arc<crate::catalog::Served>, String> {
        self.catalog
            .pick(param.dataset.as_deref())
            .cloned()
            .map_err(|e| e.message)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_instructions(
            "Glossa: the tokens each neuron and attention head of a transformer reads and writes. \
             Use search to find which units mention a token, then show_neuron or show_head.",
        )
    }
}

/// Answers MCP requests on standard input and output until the client
/// closes them.
pub fn serve_stdio(catalog: Catalog) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let service = McpServer::new(Arc::new(catalog))
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| ServeError::Mcp(Box::new(e)))?;
        service
            .waiting()
            .await
            .map_err(|e| ServeError::Mcp(Box::new(e)))?;
        Ok(())
    })
}
