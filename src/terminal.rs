//! What the commands show on a terminal: text with its control characters escaped, so that a
//! name from a file cannot move the cursor, retitle the terminal or clear the screen, and the
//! progress bars of long commands (drawn only where a person watches).

use crate::experiment::Experiment;
use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// `text` with every control character but newline and tab shown as an escape (`\u{1b}`).
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if unsafe_char(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// What a progress bar counts, and where it is drawn.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Simulated nanoseconds of `runs` runs, `total_ns` in all (`surge run`), on stdout.
    Simulated {
        /// Simulated time of every run together.
        total_ns: u128,
        /// How many runs.
        runs: usize,
    },
    /// Finished runs out of `total` (`surge sweep`), on stderr.
    Runs {
        /// Runs to finish.
        total: u64,
    },
}

impl Progress {
    /// The simulated time of every run of `exp`.
    pub fn simulated(exp: &Experiment) -> Progress {
        let runs = exp.runs().len();
        Progress::Simulated {
            total_ns: u128::from(exp.duration.as_nanos()) * runs as u128,
            runs,
        }
    }

    /// Whether the bar is worth drawing: the stream it is drawn on is a terminal.
    pub fn on_terminal(&self) -> bool {
        match self {
            Progress::Simulated { .. } => std::io::stdout().is_terminal(),
            Progress::Runs { .. } => std::io::stderr().is_terminal(),
        }
    }
}

/// Runs `work` while a bar (if any, and if [`Progress::on_terminal`]) shows `count` against
/// its total, then clears the bar.
pub fn with_progress<T>(bar: Option<Progress>, count: &AtomicU64, work: impl FnOnce() -> T) -> T {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        if let Some(bar) = bar.filter(Progress::on_terminal) {
            let done = &done;
            scope.spawn(move || draw(bar, count, done));
        }
        let r = work();
        done.store(true, Ordering::Relaxed);
        r
    })
}

/// Redraws the bar every 100 ms until `done`.
fn draw(progress: Progress, count: &AtomicU64, done: &AtomicBool) {
    // The most the position may be, how many of `count` make one step of it, and the bar.
    let (cap, unit, bar) = match progress {
        Progress::Simulated { total_ns, runs } => {
            let total_ms = (total_ns / 1_000_000).max(1) as u64;
            let bar = styled(
                total_ms,
                indicatif::ProgressDrawTarget::stdout(),
                "{bar:40} {percent:>3}% of {msg} simulated, {elapsed} elapsed, ETA {eta}",
            );
            bar.set_message(format!("{runs} run(s)"));
            (total_ms, 1_000_000, bar)
        }
        Progress::Runs { total } => {
            let bar = styled(
                total.max(1),
                indicatif::ProgressDrawTarget::stderr(),
                "{bar:40} {pos}/{len} runs, {per_sec}, {elapsed} elapsed, ETA {eta}",
            );
            (total, 1, bar)
        }
    };
    while !done.load(Ordering::Relaxed) {
        bar.set_position((count.load(Ordering::Relaxed) / unit).min(cap));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

fn styled(
    len: u64,
    target: indicatif::ProgressDrawTarget,
    template: &str,
) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_but_newlines_and_tabs_kept() {
        for (input, expected) in [
            ("plain\ttext\n", "plain\ttext\n"),
            ("a\u{1b}[2Jb", "a\\u{1b}[2Jb"),
            ("bell\u{7}", "bell\\u{7}"),
            ("c1\u{9b}", "c1\\u{9b}"),
        ] {
            assert_eq!(escape_controls(input), expected, "{input:?}");
        }
        assert!(matches!(escape_controls("ok"), Cow::Borrowed(_)));
    }
}
