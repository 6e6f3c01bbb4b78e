//! The stages that compute and write tables: tokens, the corpus token list,
//! every neuron's lists, every neuron's connections (`--connections`),
//! every head's pair lists and the head summary.

use std::ops::Range;
use std::path::Path;
use std::time::Instant;

use glossa_corpus::{count_tokens, CorpusSource, TokenCounts};
use glossa_load::{HubOptions, Model};
use glossa_project::{project, Extremes, Projection, Pruning, Scored, Tiling, TokenFilter};
use glossa_tables::{
    head_summary_batch, is_token_list, neuron_summary_batch, read_head_summary, read_token_list,
    token_list_batch, tokens_batch, ConnectionTableBuilder, HeadSummaryRow, HeadTableBuilder,
    Layout, NeuronSummaryRow, NeuronTableBuilder, PairEntry, Polarity, Side, Table, TableKind,
    TokenEntry, TokenRow,
};
use glossa_vocab::{CharClasses, Vocabulary};
use tokenizers::Tokenizer;

use super::ledger::Ledger;
use crate::config::ExtractConfig;
use crate::connections::{layer_connections, read_sides};
use crate::error::Result;
use crate::heads::{layer_circuits, CircuitSettings};
use crate::observer::Observer;
use crate::pairs_filter::PairFilter;
use crate::readings::Reading;
use crate::views::{view, TokenRows};

/// Everything the stages share.
pub(super) struct Stages<'a> {
    pub(super) config: &'a ExtractConfig,
    pub(super) model: &'a Model,
    pub(super) vocabulary: &'a Vocabulary,
    /// Token ids that exist in the tokenizer: rows beyond are padding.
    pub(super) tokens: usize,
    /// Tokens that pass the run's filters, or `None` when there are none.
    pub(super) allowed: Option<&'a [bool]>,
    pub(super) observer: &'a dyn Observer,
    pub(super) reading: Reading,
    /// The layers whose tables this run writes (a shard's, or all).
    pub(super) layers: Range<usize>,
    pub(super) ledger: Ledger,
}

/// Whether an interrupted run finished the heads of `layer`: their table and
/// their part of the summary.
pub(super) fn heads_done(done: impl Fn(&str) -> bool, layer: usize) -> bool {
    done(&Table::Heads(layer).path()) && done(&Layout::head_summary_part(layer))
}

/// Whether an interrupted run finished the neurons of `layer`: their lists
/// and their summary.
pub(super) fn neurons_done(done: impl Fn(&str) -> bool, layer: usize) -> bool {
    done(&Table::Neurons(layer).path()) && done(&Table::NeuronSummary(layer).path())
}

impl Stages<'_> {
    /// Whether token `id` passes the run's filters.
    fn allows(&self, id: u32) -> bool {
        self.allowed.is_none_or(|a| a[id as usize])
    }

    /// The run's filters as the projection takes them.
    fn token_filter(&self) -> TokenFilter<'_> {
        self.allowed.map_or(TokenFilter::all(), TokenFilter::only)
    }

    pub(super) fn write_tokens(&mut self) -> Result<()> {
        if self.ledger.reuse(Table::Tokens) {
            return Ok(());
        }
        let started = Instant::now();
        let rows: Vec<TokenRow> = self
            .vocabulary
            .tokens()
            .iter()
            .map(|t| {
                let classes = CharClasses::of(t);
                TokenRow {
                    token_id: t.id,
                    piece: t.piece.clone(),
                    text: t.text.clone(),
                    display: t.display.clone(),
                    special: t.special,
                    added: t.added,
                    word_initial: t.word_initial,
                    fragment: t.fragment,
                    normalized: glossa_index::normalize(&t.text),
                    chars: t.chars as u32,
                    is_ascii: classes.ascii,
                    is_alnum: classes.alnum,
                    has_brackets: classes.brackets,
                    is_alpha: classes.alpha,
                    is_word: classes.word,
                    allowed: self.allows(t.id),
                }
            })
            .collect();
        self.ledger.write(Table::Tokens, tokens_batch(&rows))?;
        self.ledger.time("write", started);
        Ok(())
    }

    /// The corpus token list the run was restricted to.
    pub(super) fn write_token_list(&mut self, list: &[(u32, u64)]) -> Result<()> {
        if !self.ledger.reuse(Table::TokenList) {
            self.ledger
                .write(Table::TokenList, token_list_batch(list))?;
        }
        Ok(())
    }

    /// Every neuron's key and value lists, one table per layer.
    pub(super) fn neurons(&mut self) -> Result<()> {
        let shape = self.model.shape;
        let observer = self.observer;
        let sides = Reading::sides(self.model);
        let per_layer = sides.len() * shape.d_ff;
        observer.stage("neurons", (self.layers.len() * per_layer) as u64);
        let advance = |n: usize| observer.advance(n as u64);
        for l in self.layers.clone() {
            if neurons_done(|path| self.ledger.was_done(path), l) {
                self.ledger.reuse(Table::Neurons(l));
                self.ledger.reuse(Table::NeuronSummary(l));
                advance(per_layer);
                continue;
            }
            let started = Instant::now();
            let lists = sides
                .iter()
                .map(|&side| {
                    // One side decoded at a time: a layer's f32 is never
                    // held whole.
                    let (vectors, embedding) = self.reading.neuron_side(self.model, l, side)?;
                    let embedding = TokenRows(embedding);
                    let lists = project(
                        &Projection {
                            vectors: view(&vectors),
                            embedding: embedding.embedding(),
                            tokens: self.tokens,
                            k: self.config.k,
                            filter: self.token_filter(),
                            device: self.config.device,
                            tiling: Tiling::default(),
                        },
                        &advance,
                    )?;
                    Ok(lists)
                })
                .collect::<Result<Vec<_>>>()?;
            self.ledger.time("compute_neurons", started);

            let started = Instant::now();
            let mut builder = NeuronTableBuilder::new();
            let mut summary = Vec::with_capacity(shape.d_ff * sides.len());
            let value_side = sides.iter().position(|&side| side == Side::Value);
            for neuron in 0..shape.d_ff {
                let value_top = value_side.map(|v| &lists[v][neuron].top);
                for (side, extremes) in sides.iter().zip(&lists) {
                    let extremes = &extremes[neuron];
                    push_neuron_lists(
                        &mut builder,
                        l as u32,
                        neuron as u32,
                        *side,
                        extremes,
                        self.vocabulary,
                    )?;
                    summary.push(NeuronSummaryRow {
                        layer: l as u32,
                        neuron: neuron as u32,
                        side: *side,
                        tokens: extremes.moments.count as u32,
                        mean: extremes.moments.mean(),
                        std: extremes.moments.std(),
                        kurtosis: extremes.statistics.kurtosis(),
                        entropy: extremes.statistics.entropy(),
                        value_overlap: value_top
                            .filter(|_| *side != Side::Value)
                            .map(|value_top| shared_tokens(&extremes.top, value_top)),
                    });
                }
            }
            self.ledger
                .write(Table::NeuronSummary(l), neuron_summary_batch(&summary)?)?;
            self.ledger.write(Table::Neurons(l), builder.finish())?;
            self.ledger.time("write", started);
        }
        observer.finish_stage();
        Ok(())
    }

    /// Every head's VO and QK pair lists, one table per layer, and the summary.
    pub(super) fn heads(&mut self) -> Result<()> {
        let shape = self.model.shape;
        let observer = self.observer;
        observer.stage("heads", (self.layers.len() * shape.heads * 2) as u64);
        let advance = |n: usize| observer.advance(n as u64);
        let filter = PairFilter::new(
            self.vocabulary,
            self.config.exclude_same,
            self.config.exclude_fuzzy,
        );
        let pruning = if self.config.brute_force_heads {
            Pruning::None
        } else {
            Pruning::Bounds
        };
        // The same for every circuit: found once, taken out of each one's
        // moments.
        let excluded = filter.excluded_pairs(self.tokens, |id| self.allows(id));
        let mut summaries = Vec::new();
        for l in self.layers.clone() {
            if heads_done(|path| self.ledger.was_done(path), l) {
                let part = self.ledger.layout().file(&Layout::head_summary_part(l));
                summaries.extend(read_head_summary(&part)?);
                self.ledger.reuse(Table::Heads(l));
                advance(2 * shape.heads);
                continue;
            }
            let started = Instant::now();
            let settings = CircuitSettings {
                tokens: self.tokens,
                k: self.config.head_k,
                tokens_allowed: self.token_filter(),
                pairs: &filter,
                excluded: &excluded,
                pruning,
                reading: self.reading,
            };
            let results = layer_circuits(self.model, l, &settings, &advance)?;
            self.ledger.time("compute_heads", started);

            let started = Instant::now();
            let mut builder = HeadTableBuilder::default();
            let display = |id: u32| self.vocabulary.get(id).map_or("", |t| t.display.as_str());
            for result in &results {
                for (polarity, list) in [
                    (Polarity::Top, &result.extremes.top),
                    (Polarity::Bottom, &result.extremes.bottom),
                ] {
                    builder.push_list(
                        l as u32,
                        result.head as u32,
                        result.circuit,
                        polarity,
                        list.iter().map(|p| PairEntry {
                            src_token_id: p.src,
                            dst_token_id: p.dst,
                            src_token: display(p.src),
                            dst_token: display(p.dst),
                            score: p.score,
                            z: result.moments.z(p.score) as f32,
                        }),
                    )?;
                }
            }
            self.ledger.write(Table::Heads(l), builder.finish())?;
            let layer_summaries: Vec<HeadSummaryRow> =
                results.into_iter().map(|r| r.summary).collect();
            self.ledger.write_file(
                &Layout::head_summary_part(l),
                TableKind::HeadSummary,
                head_summary_batch(&layer_summaries),
            )?;
            summaries.extend(layer_summaries);
            self.ledger.time("write", started);
        }
        observer.finish_stage();
        let started = Instant::now();
        self.ledger
            .write(Table::HeadSummary, head_summary_batch(&summaries))?;
        self.ledger.time("write", started);
        Ok(())
    }

    /// Every neuron's connection lists, `k` at each end, one table per layer.
    pub(super) fn connections(&mut self, k: usize) -> Result<()> {
        let shape = self.model.shape;
        let observer = self.observer;
        // Each neuron is scored against every other layer, through each read side.
        let per_layer = shape.d_ff * read_sides(self.model).len() * shape.layers.saturating_sub(1);
        observer.stage("connections", (self.layers.len() * per_layer) as u64);
        let advance = |n: usize| observer.advance(n as u64);
        for l in self.layers.clone() {
            if self.ledger.reuse(Table::Connections(l)) {
                advance(per_layer);
                continue;
            }
            let started = Instant::now();
            let lists =
                layer_connections(self.model, l, k, self.reading, self.config.device, &advance)?;
            self.ledger.time("compute_connections", started);

            let started = Instant::now();
            let mut builder = ConnectionTableBuilder::default();
            for list in &lists {
                let unit = (l as u32, list.neuron as u32);
                for (polarity, entries) in
                    [(Polarity::Top, &list.top), (Polarity::Bottom, &list.bottom)]
                {
                    builder.push_list(unit, list.direction, list.side, polarity, entries)?;
                }
            }
            self.ledger.write(Table::Connections(l), builder.finish())?;
            self.ledger.time("write", started);
        }
        observer.finish_stage();
        Ok(())
    }
}

/// The tokens the corpus at `source` holds, most frequent first, at most
/// `config.max_tokens` of them: read from a saved list, or counted.
pub(super) fn token_list(
    source: &str,
    config: &ExtractConfig,
    hub: &HubOptions,
    tokenizer: &Tokenizer,
    tokens: usize,
    observer: &dyn Observer,
) -> Result<Vec<(u32, u64)>> {
    let counts = if is_token_list(Path::new(source)) {
        TokenCounts::from_pairs(tokens, read_token_list(Path::new(source))?)
    } else {
        let files = {
            let mut downloads = observer.downloads();
            CorpusSource::parse(source).files(hub, downloads.as_mut())?
        };
        observer.stage("corpus", 0);
        let advance = |n: usize| observer.advance(n as u64);
        let counts = count_tokens(&files, tokenizer, config.text_column(), &advance)?;
        observer.finish_stage();
        counts
    };
    Ok(counts.seen(config.max_tokens))
}

/// `seen[t]`: token t matches a corpus token once case and the word-initial
/// marker are ignored (as the paper's `only_from_list`).
pub(super) fn in_corpus(vocabulary: &Vocabulary, list: &[(u32, u64)]) -> Vec<bool> {
    let forms: std::collections::HashSet<String> = list
        .iter()
        .filter_map(|&(id, _)| vocabulary.get(id))
        .map(|t| glossa_index::normalize(&t.text))
        .collect();
    vocabulary
        .tokens()
        .iter()
        .map(|t| forms.contains(&glossa_index::normalize(&t.text)))
        .collect()
}

/// Appends the top and bottom lists of one neuron side.
fn push_neuron_lists(
    builder: &mut NeuronTableBuilder,
    layer: u32,
    neuron: u32,
    side: Side,
    extremes: &Extremes,
    vocabulary: &Vocabulary,
) -> Result<()> {
    for (polarity, list) in [
        (Polarity::Top, &extremes.top),
        (Polarity::Bottom, &extremes.bottom),
    ] {
        builder.push_list(
            layer,
            neuron,
            side,
            polarity,
            list.iter().map(|s| TokenEntry {
                token_id: s.token,
                token: vocabulary.get(s.token).map_or("", |t| t.display.as_str()),
                score: s.score,
                z: extremes.moments.z(s.score) as f32,
            }),
        )?;
    }
    Ok(())
}

/// How many tokens two top lists share: a key's (or gate's) and its
/// neuron's value's. Lists hold at most `k` ≤ u16::MAX tokens.
fn shared_tokens(list: &[Scored], other: &[Scored]) -> u16 {
    let mut others: Vec<u32> = other.iter().map(|s| s.token).collect();
    others.sort_unstable();
    let shared = list
        .iter()
        .filter(|s| others.binary_search(&s.token).is_ok())
        .count();
    u16::try_from(shared).unwrap_or(u16::MAX)
}
