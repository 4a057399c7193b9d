//! Circuit breakers on call edges, one per edge (shared by the caller's instances): closed,
//! counting failed tries in a row; open, failing calls at once without sending them; half-open
//! after `open_for`, letting `probes` calls through and closing when one succeeds, opening
//! again when one fails.

use crate::components::endpoint::Breaker;
use crate::ids::EdgeId;
use crate::kernel::SimTime;
use crate::model::Model;

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failed_in_a_row: u32 },
    Open { until: SimTime },
    HalfOpen { probing: u32 },
}

/// Every edge's breaker state (edges without a breaker stay closed and are never asked).
#[derive(Debug)]
pub(super) struct Breakers {
    states: Vec<State>,
}

impl Breakers {
    pub(super) fn new(model: &Model) -> Breakers {
        Breakers {
            states: vec![State::Closed { failed_in_a_row: 0 }; model.edges.len()],
        }
    }

    /// Whether a call on `edge` may be sent at `now`: an open breaker whose time is up turns
    /// half-open and lets its first probe through.
    pub(super) fn admits(&mut self, edge: EdgeId, b: &Breaker, now: SimTime) -> bool {
        let state = &mut self.states[edge.index()];
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen { probing: 1 };
                true
            }
            State::Open { .. } => false,
            State::HalfOpen { probing } if probing < b.probes => {
                *state = State::HalfOpen {
                    probing: probing + 1,
                };
                true
            }
            State::HalfOpen { .. } => false,
        }
    }

    /// A try on `edge` ended, `ok` or not. Returns whether the breaker opened.
    pub(super) fn ended(&mut self, edge: EdgeId, b: &Breaker, ok: bool, now: SimTime) -> bool {
        let state = &mut self.states[edge.index()];
        let open = State::Open {
            until: now + b.open_for,
        };
        match *state {
            State::Closed { failed_in_a_row } => {
                if ok {
                    *state = State::Closed { failed_in_a_row: 0 };
                    false
                } else if failed_in_a_row + 1 >= b.failures {
                    *state = open;
                    true
                } else {
                    *state = State::Closed {
                        failed_in_a_row: failed_in_a_row + 1,
                    };
                    false
                }
            }
            State::HalfOpen { .. } => {
                if ok {
                    *state = State::Closed { failed_in_a_row: 0 };
                    false
                } else {
                    *state = open;
                    true
                }
            }
            // A try sent before it opened: its end changes nothing.
            State::Open { .. } => false,
        }
    }
}
