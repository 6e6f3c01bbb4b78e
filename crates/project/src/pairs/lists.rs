//! What a search of one matrix returns, and how it may search.

/// One entry of M = A · Bᵀ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// Row of A (the query or reading token).
    pub src: u32,
    /// Row of B (the key or writing token).
    pub dst: u32,
    /// M[src, dst], the canonical f32 score (see the module docs).
    pub score: f32,
}

/// The extremes of one matrix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairExtremes {
    /// Highest scores first; equal scores by ascending (src, dst).
    pub top: Vec<Pair>,
    /// Lowest scores first; equal scores by ascending (src, dst).
    pub bottom: Vec<Pair>,
}

/// How much of the matrix a search evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairStats {
    /// n_src × n_dst: every entry of M, filtered or not.
    pub entries: u64,
    /// Entries evaluated by the GEMM.
    pub computed: u64,
    /// Tiles of the allowed rows.
    pub tiles: u64,
    /// Tiles of which no entry was evaluated.
    pub tiles_skipped: u64,
    /// Whether the balanced refactorisation ordered and bounded the rows
    /// (otherwise the raw row norms did, or nothing was pruned).
    pub balanced: bool,
}

/// Whether [`top_pairs`](super::top_pairs) may skip tiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pruning {
    /// Evaluate every tile in index order: the brute-force reference.
    None,
    /// Norm-sorted tiles, skipped when their Cauchy–Schwarz bound cannot
    /// reach either list.
    #[default]
    Bounds,
}
