//! How a run reports progress without knowing where it is shown.

use glossa_load::DownloadProgress;

/// Receives progress of a run. Implementations must be cheap: `advance` is
/// called from worker threads.
pub trait Observer: Sync {
    /// A stage begins; `total` units of work (0 when unknown).
    fn stage(&self, name: &str, total: u64);
    /// `units` more units of the current stage are done.
    fn advance(&self, units: u64);
    /// The current stage is done.
    fn finish_stage(&self);
    /// Where download progress goes.
    fn downloads(&self) -> Box<dyn DownloadProgress + '_>;
    /// Something the user should know about the run (resuming it, taking
    /// over a stale lock); shown even when progress is not.
    fn note(&self, _message: &str) {}
}

/// An observer that shows nothing (`--quiet`, tests).
pub struct Silent;

impl DownloadProgress for Silent {
    fn start(&mut self, _file: &str, _bytes: usize) {}
    fn advance(&mut self, _bytes: usize) {}
    fn finish(&mut self) {}
}

impl Observer for Silent {
    fn stage(&self, _name: &str, _total: u64) {}
    fn advance(&self, _units: u64) {}
    fn finish_stage(&self) {}
    fn downloads(&self) -> Box<dyn DownloadProgress + '_> {
        Box::new(Silent)
    }
}
