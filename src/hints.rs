//! What to type about an error: the flags and commands that fix it.
//!
//! Libraries say what is wrong in their own terms; only the binary knows its
//! flags, so the hint that names them is chosen here, from the error and the
//! command that failed.

use std::io::ErrorKind;

use glossa_pipeline::PipelineError;

/// The command that failed, for hints that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Extract,
    Merge,
    Search,
    Show,
    Query,
    Index,
    Info,
    Verify,
    Plot,
    Serve,
    Mcp,
}

/// A line of advice for `error`, if there is one to give.
pub fn hint(error: &anyhow::Error, topic: Topic) -> Option<String> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<PipelineError>())
        .and_then(|e| pipeline_hint(e, topic))
        .or_else(|| serve_hint(error))
        .or_else(|| query_hint(error))
        .or_else(|| io_hint(error, topic))
}

fn pipeline_hint(error: &PipelineError, topic: Topic) -> Option<String> {
    if let PipelineError::Index(index) = error {
        return index_hint(index);
    }
    if let PipelineError::Load(load) = error {
        return load_hint(load);
    }
    if let PipelineError::MergeInput { source, .. } = error {
        return pipeline_hint(source, topic).or_else(|| {
            Some(
                "each SHARD is the output directory of a finished `glossa extract --layers A..B`; `glossa verify --data DIR` says what is wrong with one"
                    .to_string(),
            )
        });
    }
    if let PipelineError::LayersMissing { missing, .. } = error {
        let flags: Vec<String> = missing.iter().map(|r| format!("--layers {r}")).collect();
        return Some(format!(
            "extract the missing layers with the other shards' flags and {} (one shard each), then merge all the shards again",
            flags.join(", ")
        ));
    }
    if let PipelineError::Corpus(glossa_corpus::CorpusError::NoTextColumn { .. }) = error {
        return Some("name the text column with --text-column NAME".to_string());
    }
    use PipelineError as E;
    let hint = match error {
        E::NoDataset { .. } => {
            "run `glossa extract` (or `make extract`) first, or name a dataset with --data DIR"
        }
        E::SeveralDatasets { .. } => "pick one with --data DIR",
        E::Interrupted { .. } => {
            "rerun the same `glossa extract` command to resume it, or add --force to start over"
        }
        E::InterruptedMerge { .. } => {
            "rerun the same `glossa merge` command to finish it"
        }
        E::LayersOutOfRange { .. } => {
            "--layers takes a range inside the model's layers: A..B (B excluded), A..=B, or one layer A"
        }
        E::LayerNotInShard { .. } => {
            "ask the shard that holds that layer, or the dataset `glossa merge` makes of all the shards"
        }
        E::ShardsDiffer { .. } => {
            "extract the odd shard again with the same glossa, model and flags as the others (only --layers differs)"
        }
        E::LayersOverlap { .. } => {
            "give every layer to exactly one shard: leave out one of the overlapping shards, or extract ranges that do not overlap"
        }
        E::ShardDamaged { .. } => {
            "`glossa verify --data SHARD` lists what is wrong; extract that shard again"
        }
        E::MergeIntoShard { .. } => "name a new directory with --out",
        E::NothingToExtract => {
            "--no-neurons and --no-heads together leave nothing to extract (unless --connections asks for connections)"
        }
        E::WithoutTokenList { .. } => {
            "--max-tokens and --text-column go with --token-list; add one, or drop them"
        }
        E::OutputIsAFile { .. } => "name a directory with --out",
        E::OutputNotEmpty { .. } if topic == Topic::Merge => {
            "name a new or empty directory with --out"
        }
        E::OutputNotEmpty { .. } => {
            "name a new or empty directory with --out, or add --force to write there anyway"
        }
        E::InvalidListLength { .. } => {
            "--k, --head-k and --connections take a number from 1 to 65535"
        }
        E::InvalidK { .. } => "lower --k, or let more tokens through --filter, --token-list and --max-tokens",
        E::InvalidConnectionsK { .. } => {
            "--connections N takes at most as many neurons as a layer has"
        }
        E::InvalidHeadK { .. } => {
            "lower --head-k, or let more tokens through --filter, --token-list and --max-tokens"
        }
        E::NoSelectableTokens { .. } => {
            "drop or relax --filter, or give --token-list a larger corpus (or a larger --max-tokens)"
        }
        E::NoPipelineFile { .. } => {
            "--pipeline takes a TOML file's path, or the name of one in pipelines/ (such as tiny-polish-gpt2)"
        }
        E::NoEntriesToPlot => "--k must be at least 1",
        E::TooManyToPlot { .. } => {
            "lower --k, or extract again with a larger --k (neurons) or --head-k (heads)"
        }
        E::ModelOfDataset { .. } | E::NotTheDatasetsModel { .. } | E::ScoresDiffer { .. } => {
            "name where the dataset's model is now with --model DIR or --model ORG/NAME"
        }
        E::NoHeads { .. } => "extract again without --no-heads",
        E::WordForms { .. } => {
            "install the dictionary (Debian's Polish one: `apt-get install hunspell-pl`), or extract again with --word-forms off (or another dictionary's path)"
        }
        E::NoNeurons { .. } => "extract again without --no-neurons",
        E::WrongLayer { .. } => "`glossa verify` lists what else is wrong; extract the dataset again",
        E::Table(glossa_tables::TableError::SchemaVersion { .. }) => {
            "run the same `glossa extract` again with this glossa: it replaces the dataset"
        }
        _ => return None,
    };
    Some(hint.to_string())
}

fn index_hint(error: &glossa_index::Error) -> Option<String> {
    use glossa_index::Error as E;
    let hint = match error {
        E::Missing { .. } | E::Corrupt { .. } => "`glossa index` rebuilds it from the tables",
        E::InvalidSearch { .. } => {
            "--side goes with neurons, --circuit with heads, a pair (A -> B) with heads; --limit is at least 1"
        }
        _ => return None,
    };
    Some(hint.to_string())
}

fn load_hint(error: &glossa_load::LoadError) -> Option<String> {
    use glossa_load::LoadError as E;
    let hint = match error {
        E::BadModelId(_) => "--model takes a directory in Hugging Face layout or a hub id ORG/NAME",
        E::RevisionNotFound { .. } => "--revision takes a branch, tag or commit of the repository",
        E::RepoNotFound { .. } => "check the id given to --model",
        E::UnsupportedArchitecture { .. }
        | E::MissingTensor { .. }
        | E::UndeclaredLayers { .. }
        | E::ShapeMismatch { .. }
        | E::ConfigValue { .. } => {
            "--model must name a checkpoint whose config.json matches its weights"
        }
        _ => return None,
    };
    Some(hint.to_string())
}

fn serve_hint(error: &anyhow::Error) -> Option<String> {
    use glossa_serve::ServeError as E;
    let hint = match error.downcast_ref::<E>()? {
        E::Bind { .. } => {
            "another program may listen there: choose another port with --bind 127.0.0.1:PORT"
        }
        E::SameName { .. } => "serve datasets from directories of different names",
        _ => return None,
    };
    Some(hint.to_string())
}

fn query_hint(error: &anyhow::Error) -> Option<String> {
    use glossa_query::QueryError as E;
    let hint = match error.downcast_ref::<E>()? {
        E::Sql { .. } | E::Panic { .. } => {
            "the dataset's README.md describes every table and column; put the statement in single quotes so that the shell leaves it whole"
        }
        _ => return None,
    };
    Some(hint.to_string())
}

/// What to do about a file system error the message alone may leave open.
fn io_hint(error: &anyhow::Error, topic: Topic) -> Option<String> {
    let io = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<std::io::Error>())?;
    let hint = match (io.kind(), topic) {
        (ErrorKind::StorageFull | ErrorKind::QuotaExceeded, Topic::Extract) => {
            "the disk is full: free some space (or extract to another --out); rerunning the same extraction resumes it"
        }
        (ErrorKind::StorageFull | ErrorKind::QuotaExceeded, Topic::Merge) => {
            "the disk is full: free some space (or merge into another --out); rerunning the same merge resumes it"
        }
        (ErrorKind::StorageFull | ErrorKind::QuotaExceeded, Topic::Plot) => {
            "the disk is full: free some space, or write the plot elsewhere with --out"
        }
        (ErrorKind::StorageFull | ErrorKind::QuotaExceeded, Topic::Index | Topic::Search) => {
            "the disk is full: free some space, then run `glossa index` to rebuild the index"
        }
        (ErrorKind::StorageFull | ErrorKind::QuotaExceeded, _) => {
            "the disk is full: free some space"
        }
        (ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem, Topic::Extract) => {
            "the path is not writable: fix its permissions (or extract to another --out)"
        }
        (ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem, Topic::Merge) => {
            "the path is not writable: fix its permissions (or merge into another --out)"
        }
        (ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem, _) => {
            "the path is not writable: fix its permissions, or write elsewhere"
        }
        (ErrorKind::NotADirectory, _) => {
            "a part of the path is a file, not a directory: choose another path"
        }
        _ => return None,
    };
    Some(hint.to_string())
}
