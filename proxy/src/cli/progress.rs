//! Progress for long `cloak keys` runs: a spinner with running counts on a terminal, and
//! nothing but the final summary otherwise (indicatif draws only to a terminal).

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress(ProgressBar);

impl Progress {
    pub fn new(verb: &str) -> Self {
        let bar = ProgressBar::new_spinner();
        let template = format!("{{spinner}} {verb}: {{msg}} [{{elapsed}}]");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Self(bar)
    }

    pub fn update(&self, done: u64, message: &str) {
        self.0.set_position(done);
        self.0.set_message(message.to_owned());
    }

    /// Prints a line above the spinner (or plainly, without a terminal).
    pub fn println(&self, line: &str) {
        if self.0.is_hidden() {
            eprintln!("{line}");
        } else {
            self.0.println(line);
        }
    }

    /// Ends the spinner and prints the summary on standard output.
    pub fn finish(&self, summary: &str) {
        self.0.finish_and_clear();
        println!("{summary}");
    }
}
