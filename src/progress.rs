//! Progress of a run on standard error: bars on a terminal (indicatif), a
//! line per stage elsewhere.

use std::sync::Mutex;
use std::time::Instant;

use glossa_load::DownloadProgress;
use glossa_pipeline::Observer;
use indicatif::{ProgressBar, ProgressState, ProgressStyle};

/// Draws one bar per stage, with rate and ETA.
pub struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            current: Mutex::new(None),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(guard) = self.current.lock() {
            if let Some(bar) = guard.as_ref() {
                f(bar);
            }
        }
    }
}

impl Observer for Bars {
    fn stage(&self, name: &str, total: u64) {
        let bar = if total == 0 {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg:<8} {elapsed}")
                    .expect("static template"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:<8} [{bar:40}] {human_pos}/{human_len} {rate} ETA {eta} ({elapsed})",
                )
                .expect("static template")
                .with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        // Whole units per second: indicatif's {per_sec} prints four decimals.
                        let _ = write!(w, "{:.0}/s", state.per_sec());
                    },
                )
                .progress_chars("=> "),
            );
            bar
        };
        bar.set_message(name.to_string());
        if let Ok(mut guard) = self.current.lock() {
            *guard = Some(bar);
        }
    }

    fn advance(&self, units: u64) {
        self.with_bar(|bar| bar.inc(units));
    }

    fn finish_stage(&self) {
        if let Ok(mut guard) = self.current.lock() {
            if let Some(bar) = guard.take() {
                bar.finish();
            }
        }
    }

    fn downloads(&self) -> Box<dyn DownloadProgress + '_> {
        Box::new(Download { bar: None })
    }

    fn note(&self, message: &str) {
        match self.current.lock().ok().as_deref().and_then(Option::as_ref) {
            Some(bar) => bar.suspend(|| eprintln!("note: {message}")),
            None => eprintln!("note: {message}"),
        }
    }
}

/// Without a terminal (a log, a pipe): one line when a stage starts and one
/// when it ends, so that a long run still shows where it is.
pub struct Lines {
    started: Mutex<Option<(String, Instant)>>,
}

impl Lines {
    pub fn new() -> Lines {
        Lines {
            started: Mutex::new(None),
        }
    }
}

impl Observer for Lines {
    fn stage(&self, name: &str, total: u64) {
        match total {
            0 => eprintln!("{name}: started"),
            total => eprintln!("{name}: started, {total} units of work"),
        }
        if let Ok(mut started) = self.started.lock() {
            *started = Some((name.to_string(), Instant::now()));
        }
    }

    fn advance(&self, _units: u64) {}

    fn finish_stage(&self) {
        if let Some((name, at)) = self.started.lock().ok().and_then(|mut s| s.take()) {
            eprintln!("{name}: done in {:.1} s", at.elapsed().as_secs_f64());
        }
    }

    fn downloads(&self) -> Box<dyn DownloadProgress + '_> {
        Box::new(glossa_pipeline::Silent)
    }

    fn note(&self, message: &str) {
        eprintln!("note: {message}");
    }
}

/// `--quiet`: no bars, but notes (resuming, a stale lock) still go to standard error.
pub struct Quiet;

impl Observer for Quiet {
    fn stage(&self, _name: &str, _total: u64) {}
    fn advance(&self, _units: u64) {}
    fn finish_stage(&self) {}
    fn downloads(&self) -> Box<dyn DownloadProgress + '_> {
        Box::new(glossa_pipeline::Silent)
    }
    fn note(&self, message: &str) {
        eprintln!("note: {message}");
    }
}

/// A byte-count bar per downloaded file.
struct Download {
    bar: Option<ProgressBar>,
}

impl DownloadProgress for Download {
    fn start(&mut self, file: &str, bytes: usize) {
        let bar = ProgressBar::new(bytes as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:<24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_message(file.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, bytes: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes as u64);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}
