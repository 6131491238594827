//! Where a refresh round spends its time.
//!
//! Each stage of [`Adapter::step`](crate::Adapter::step) runs inside a
//! `tracing` span at debug level (`freshet_stage`, field `stage`), for any
//! subscriber to time, and its wall-clock duration is added to the round's
//! [`StepReport::stages`](crate::StepReport::stages), which is what the
//! benchmark harness aggregates.

use std::time::{Duration, Instant};

/// Stage durations of one round, in the order the stages first ran; a
/// stage run several times (e.g. once per view) is summed.
pub type StageTimes = Vec<(&'static str, Duration)>;

/// Adds `d` to stage `name`.
pub(crate) fn add(times: &mut StageTimes, name: &'static str, d: Duration) {
    match times.iter_mut().find(|(n, _)| *n == name) {
        Some((_, t)) => *t += d,
        None => times.push((name, d)),
    }
}

/// A running stage: times itself and holds its span until dropped (or
/// [`end`](Self::end)ed).
pub(crate) struct Stage<'a> {
    times: &'a mut StageTimes,
    name: &'static str,
    started: Instant,
    _span: tracing::span::EnteredSpan,
}

impl<'a> Stage<'a> {
    /// Starts stage `name`.
    pub(crate) fn start(times: &'a mut StageTimes, name: &'static str) -> Stage<'a> {
        let span = tracing::debug_span!("freshet_stage", stage = name).entered();
        Stage { times, name, started: Instant::now(), _span: span }
    }

    /// Ends the stage now.
    pub(crate) fn end(self) {}
}

impl Drop for Stage<'_> {
    fn drop(&mut self) {
        add(self.times, self.name, self.started.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_sum_by_name_in_first_run_order() {
        let mut t = StageTimes::new();
        add(&mut t, "read", Duration::from_millis(2));
        add(&mut t, "write", Duration::from_millis(5));
        add(&mut t, "read", Duration::from_millis(3));
        assert_eq!(t, vec![("read", Duration::from_millis(5)), ("write", Duration::from_millis(5))]);
        Stage::start(&mut t, "check").end();
        assert_eq!(t.len(), 3);
        assert_eq!(t[2].0, "check");
    }
}
