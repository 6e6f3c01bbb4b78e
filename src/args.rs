//! Command-line flags, mirrored one to one; resolved in `commands`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use glossa_project::Device;
use glossa_tables::LayerRange;

use crate::hints::Topic;

/// The command line with every word that starts with the pair arrow `->`
/// spelled with `→` instead: clap would read a leading `-` as a flag
/// (`dieta '->' zdrowie`, `dieta '->zdrowie'`), and no flag starts so.
pub fn arrows_as_words(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    args.into_iter()
        .map(
            |arg| match arg.to_str().and_then(|a| a.strip_prefix("->")) {
                Some(rest) => format!("→{rest}").into(),
                None => arg,
            },
        )
        .collect()
}

/// Read a transformer's parameters in its own vocabulary.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Project every neuron and attention head through the embedding; write tables and index.
    // Boxed: by far the largest variant, and parsed once.
    Extract(Box<ExtractArgs>),
    /// Join the shards of `extract --layers` into one dataset, as one unsharded run writes it.
    Merge(MergeArgs),
    /// Find the neuron and head lists that contain a token (or a pair of tokens).
    Search(SearchArgs),
    /// Print one unit's lists.
    Show(ShowArgs),
    /// Answer SQL over a dataset's tables (neurons, neuron_summary, heads, head_summary, tokens, token_list, connections) and the view unit_stats.
    Query(QueryArgs),
    /// Rebuild a dataset's search index from its tables.
    Index(DataArgs),
    /// Summarise a dataset from its manifest.
    Info(DataArgs),
    /// Check a dataset: manifest, every file's sha256 and row count, the index.
    Verify(DataArgs),
    /// Draw a unit's tokens (t-SNE of their embeddings) or an overview of the dataset, as HTML or SVG.
    Plot(PlotArgs),
    /// Browse datasets in a browser: search as you type, unit and token pages, a JSON API.
    Serve(ServeArgs),
    /// Answer agents over the Model Context Protocol on stdin/stdout (search, show_neuron, show_head, info).
    Mcp(McpArgs),
}

impl Command {
    /// Which command this is, for the hints that follow an error.
    pub fn topic(&self) -> Topic {
        match self {
            Command::Extract(_) => Topic::Extract,
            Command::Merge(_) => Topic::Merge,
            Command::Search(_) => Topic::Search,
            Command::Show(_) => Topic::Show,
            Command::Query(_) => Topic::Query,
            Command::Index(_) => Topic::Index,
            Command::Info(_) => Topic::Info,
            Command::Verify(_) => Topic::Verify,
            Command::Plot(_) => Topic::Plot,
            Command::Serve(_) => Topic::Serve,
            Command::Mcp(_) => Topic::Mcp,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// Hub id (ORG/NAME) or a local directory in Hugging Face layout.
    #[arg(long, required_unless_present = "pipeline")]
    pub model: Option<String>,
    /// Hub revision (branch, tag or commit).
    #[arg(long)]
    pub revision: Option<String>,
    /// A run configuration (TOML): a file, or the name of one in pipelines/
    /// (`tiny-polish-gpt2`); flags given here override its values.
    #[arg(long, value_name = "FILE|NAME")]
    pub pipeline: Option<String>,
    /// Output directory [default: data/<model>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Tokens kept at each end of every list [default: 50].
    #[arg(long)]
    pub k: Option<usize>,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Skip the feed-forward neurons.
    #[arg(long)]
    pub no_neurons: bool,
    /// Skip the attention heads.
    #[arg(long)]
    pub no_heads: bool,
    /// Token pairs kept at each end of every head circuit [default: 100].
    #[arg(long)]
    pub head_k: Option<usize>,
    /// Also neuron-to-neuron connections, N at each end [default N: 20]: each
    /// neuron's value against the keys (and gates) of every later layer's
    /// neurons, and its key (and gate) against every earlier layer's values.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "20")]
    pub connections: Option<usize>,
    /// Head lists skip pairs of the same token or the same text (ignoring case and Ġ).
    #[arg(long)]
    pub exclude_same: bool,
    /// Head lists skip pairs of near-identical forms (dieta/diety, łódź/łodzi).
    #[arg(long)]
    pub exclude_fuzzy: bool,
    /// Keep only tokens passing these filters (comma-separated or repeated):
    /// ascii, alnum, no-brackets (the paper's), alpha, word (Unicode-aware:
    /// keep Polish), no-special, min-len=N.
    #[arg(long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Keep only tokens that occur in a corpus: a text file or directory, a
    /// JSONL/CSV/Parquet file, hf://datasets/ORG/NAME[@REV][/PATTERN], or a
    /// saved token_list.parquet.
    #[arg(long)]
    pub token_list: Option<String>,
    /// The text field of JSONL, CSV and Parquet corpora [default: text].
    #[arg(long)]
    pub text_column: Option<String>,
    /// Keep only the N most frequent corpus tokens.
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Compute every entry of every head matrix (slow; checks the pruned path).
    #[arg(long)]
    pub brute_force_heads: bool,
    /// read-write: keys, gates and what heads read through the input
    /// embedding, values and what heads write through the output embedding;
    /// output: everything through the output embedding (logit lens)
    /// [default: read-write].
    #[arg(long, value_enum)]
    pub embedding: Option<EmbeddingArg>,
    /// Fold norm gains into the weights: pre-attention into W_Q, W_K, W_V,
    /// pre-feed-forward into keys and gates, final into the output embedding.
    #[arg(long)]
    pub fold_norm: bool,
    /// QK circuits of rotary models at this relative position (query minus
    /// key; the key N tokens before the query) instead of 0 [default: 0].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub qk_offset: Option<i64>,
    /// Extract only these layers, a shard for `glossa merge`: A..B (B
    /// excluded, as in Rust), A..=B, or one layer A.
    #[arg(long, value_name = "A..B")]
    pub layers: Option<LayerRange>,
    /// Where the search index reads word forms, so that `dieta` finds
    /// `diecie`: auto (Debian's Polish Hunspell dictionary,
    /// /usr/share/hunspell/pl_PL, where installed), off, or a Hunspell
    /// dictionary's path without .aff/.dic [default: auto].
    #[arg(long, value_name = "auto|off|PATH")]
    pub word_forms: Option<String>,
    /// Where the neuron stage's GEMM runs: cpu, or cuda / cuda:N in builds
    /// with the `cuda` feature [default: cpu].
    #[arg(long, value_name = "cpu|cuda[:N]")]
    pub device: Option<Device>,
    /// No progress output (the closing summary and notes are still printed).
    #[arg(long, short)]
    pub quiet: bool,
    /// Start over instead of resuming an interrupted run in the output directory.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Directory of the merged dataset: new, empty, or a dataset to replace.
    #[arg(long)]
    pub out: PathBuf,
    /// The shards' directories, in any order: together they hold every layer once.
    #[arg(required = true, value_name = "SHARD")]
    pub shards: Vec<PathBuf>,
    /// Worker threads of the index build [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress output (the closing summary and notes are still printed).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Dataset directory [default: the one dataset under data/].
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A dataset directory to serve; repeat for several [default: the one dataset under data/].
    #[arg(long, value_name = "DIR")]
    pub data: Vec<PathBuf>,
    /// Address to listen on; local only unless told otherwise.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7878")]
    pub bind: std::net::SocketAddr,
}

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// A dataset directory to serve; repeat for several [default: the one dataset under data/].
    #[arg(long, value_name = "DIR")]
    pub data: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SideArg {
    Gate,
    Key,
    Value,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EmbeddingArg {
    ReadWrite,
    Output,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PolarityArg {
    Top,
    Bottom,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Neuron,
    Head,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CircuitArg {
    Vo,
    Qk,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArg {
    /// |z|: how far each score stands out of its own list's scores.
    Z,
    /// Rank in the list, then |score|.
    Rank,
    /// |score|, then rank.
    Score,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Tokens to look for (any of them, ranked together): `dieta`, a prefix
    /// `diet*`, a fuzzy match `dieta~1`, a continuation piece `#owa`; or a
    /// head pair `dieta '->' zdrowie` (the shell reads a bare `>` as a
    /// redirection: quote it, or write `→`). Case, diacritics, the
    /// word-initial marker and, for words the dictionary knows, their
    /// inflection are ignored.
    #[arg(required = true)]
    pub terms: Vec<String>,
    /// Only neurons or only heads.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Only this head circuit (implies heads).
    #[arg(long, value_enum)]
    pub circuit: Option<CircuitArg>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Only this layer.
    #[arg(long)]
    pub layer: Option<u32>,
    /// Only gates, keys or values.
    #[arg(long, value_enum)]
    pub side: Option<SideArg>,
    /// Only top or only bottom lists.
    #[arg(long, value_enum)]
    pub polarity: Option<PolarityArg>,
    /// Match tokens as typed, but for case and the word-initial marker: no
    /// diacritic folding (by default `lodz` finds `łódź`), no word forms (by
    /// default `dieta` finds `diecie`).
    #[arg(long)]
    pub exact: bool,
    /// Count, per layer, the neurons and heads with a matching token, with the
    /// strongest of them, instead of listing hits.
    #[arg(long)]
    pub by_layer: bool,
    /// At most this many hits.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// The order of the hits.
    #[arg(long, value_enum, default_value_t = SortArg::Z)]
    pub sort: SortArg,
    /// One JSON object per hit and line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// One SQL statement (polars' dialect) over the dataset's tables, each
    /// named as its directory or file: `SELECT * FROM neurons WHERE ...`.
    pub sql: String,
    #[command(flatten)]
    pub data: DataArgs,
    /// Output: an aligned table, CSV, JSON lines, or Parquet (to a file)
    /// [default: from the extension of --out (.csv, .jsonl, .parquet), else table].
    #[arg(long, value_enum)]
    pub format: Option<QueryFormatArg>,
    /// Write the answer to this file (atomically) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormatArg {
    Table,
    Csv,
    Json,
    Parquet,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(subcommand)]
    pub unit: ShowUnit,
}

#[derive(Debug, Subcommand)]
pub enum ShowUnit {
    /// A feed-forward neuron: key and value lists side by side.
    Neuron {
        /// Layer, from 0.
        layer: u32,
        /// Neuron index within the layer.
        neuron: u32,
        #[command(flatten)]
        data: DataArgs,
        /// Also print the bottom lists.
        #[arg(long)]
        bottom: bool,
        /// Only the first N ranks of each list [default: 20 in a table, all in CSV and JSON].
        #[arg(long)]
        limit: Option<usize>,
        /// Output: an aligned table, CSV, or one JSON object per line.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// An attention head: its VO and QK token-pair lists.
    Head {
        /// Layer, from 0.
        layer: u32,
        /// Head index within the layer.
        head: u32,
        #[command(flatten)]
        data: DataArgs,
        /// Also print the bottom lists.
        #[arg(long)]
        bottom: bool,
        /// Only the first N ranks of each list [default: 20 in a table, all in CSV and JSON].
        #[arg(long)]
        limit: Option<usize>,
        /// Output: an aligned table, CSV, or one JSON object per line.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Table,
    Csv,
    Json,
}

impl FormatArg {
    /// Ranks `show` prints of each list unless told: a screenful in a table
    /// (neurons and heads alike), every rank for scripts.
    pub fn default_limit(self) -> usize {
        match self {
            FormatArg::Table => 20,
            FormatArg::Csv | FormatArg::Json => usize::MAX,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    #[command(subcommand)]
    pub what: PlotWhat,
}

#[derive(Debug, Subcommand)]
pub enum PlotWhat {
    /// A neuron's top (or bottom) tokens, placed by t-SNE of their embedding rows.
    Neuron {
        /// Layer, from 0.
        layer: u32,
        /// Neuron index within the layer.
        neuron: u32,
        /// The gate, key (input weights) or value (output weights) list.
        #[arg(long, value_enum)]
        side: SideArg,
        #[command(flatten)]
        common: UnitPlotArgs,
    },
    /// A head's top (or bottom) pairs: their src and dst tokens, placed by t-SNE.
    Head {
        /// Layer, from 0.
        layer: u32,
        /// Head index within the layer.
        head: u32,
        /// The VO or QK pair list.
        #[arg(long, value_enum)]
        circuit: CircuitArg,
        #[command(flatten)]
        common: UnitPlotArgs,
    },
    /// Layer × unit kind: how strongly the lists hold tokens matching a query.
    Overview {
        /// Tokens to look for, as in `glossa search` (`dieta`, `diet*`, `dieta~1`).
        #[arg(required = true)]
        terms: Vec<String>,
        /// Match tokens as typed: no diacritic folding, no word forms.
        #[arg(long)]
        exact: bool,
        /// peak: the largest |z| of a matching entry (how far it stands out of
        /// its own list); lists: how many lists hold a match.
        #[arg(long, value_enum, default_value_t = MeasureArg::Peak)]
        measure: MeasureArg,
        /// Look at the bottom lists instead of the top ones.
        #[arg(long)]
        bottom: bool,
        /// Output file, .html or .svg [default: overview-TERMS.html].
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Per layer, the distribution of the heads' copying scores.
    Copying {
        /// Output file, .html or .svg [default: copying.html].
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MeasureArg {
    Peak,
    Lists,
}

/// What `plot neuron` and `plot head` share.
#[derive(Debug, clap::Args)]
pub struct UnitPlotArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Plot the bottom list (lowest scores) instead of the top one.
    #[arg(long)]
    pub bottom: bool,
    /// Tokens (neurons) or pairs (heads) to plot, at most what the list holds [default: 100 or the whole list].
    #[arg(long)]
    pub k: Option<usize>,
    /// Scale every embedding row to unit length before t-SNE.
    #[arg(long)]
    pub normalized: bool,
    /// A 3-D projection (drag to rotate it in the HTML page).
    #[arg(long = "3d")]
    pub three_d: bool,
    /// Draw each token beside its point (the HTML page has a checkbox either way).
    #[arg(long)]
    pub labels: bool,
    /// Seed of the t-SNE layout: the same seed gives the same picture.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The model whose embedding places the tokens [default: the one the manifest names].
    #[arg(long)]
    pub model: Option<String>,
    /// Output file, .html (interactive) or .svg (static) [default: neuron-L-N-SIDE-POLARITY.html, head-L-H-CIRCUIT-POLARITY.html].
    #[arg(long)]
    pub out: Option<PathBuf>,
}
