//! What guards a call edge, one per edge (shared by the caller's instances):
//!
//! - its circuit breaker: closed, counting failed tries in a row; open, failing calls at once
//!   without sending them; half-open after `open_for`, letting `probes` calls through and
//!   closing when one succeeds, opening again when one fails;
//! - its retry throttle's bucket (gRPC's A6): a failed try takes a token, a successful one
//!   gives back `token_ratio`, and a retry is made only above half the bucket.

use crate::components::endpoint::{Breaker, Retry, Throttle};
use crate::components::program::{CallOp, Op};
use crate::ids::EdgeId;
use crate::kernel::SimTime;
use crate::model::Model;

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failed_in_a_row: u32 },
    Open { until: SimTime },
    HalfOpen { probing: u32 },
}

/// Every edge's breaker state and throttle tokens (edges without them are never asked).
#[derive(Debug)]
pub(super) struct EdgeGuards {
    states: Vec<State>,
    /// Throttle tokens, full at the start: the `max_tokens` of the first call op on the edge
    /// that throttles.
    tokens: Vec<f64>,
}

impl EdgeGuards {
    pub(super) fn new(model: &Model) -> EdgeGuards {
        let mut tokens = vec![0.0; model.edges.len()];
        for op in &model.code.ops {
            if let Op::Call(c) = op {
                if let Some(t) = c.retry.and_then(|r| r.throttle) {
                    let slot = &mut tokens[c.edge.index()];
                    if *slot == 0.0 {
                        *slot = t.max_tokens;
                    }
                }
            }
        }
        EdgeGuards {
            states: vec![State::Closed { failed_in_a_row: 0 }; model.edges.len()],
            tokens,
        }
    }

    /// A try of `call` ended, `ok` or not: its breaker and its throttle count it. Returns
    /// whether the breaker opened.
    pub(super) fn tried(&mut self, call: &CallOp, ok: bool, now: SimTime) -> bool {
        if let Some(t) = call.retry.and_then(|r| r.throttle) {
            let tokens = &mut self.tokens[call.edge.index()];
            *tokens = if ok {
                (*tokens + t.token_ratio).min(t.max_tokens)
            } else {
                (*tokens - 1.0).max(0.0)
            };
        }
        match &call.breaker {
            Some(b) => self.ended(call.edge, b, ok, now),
            None => false,
        }
    }

    /// Whether `retry`'s throttle (if any) lets a retry on `edge` go now.
    pub(super) fn retry_allowed(&self, edge: EdgeId, retry: &Retry) -> bool {
        retry
            .throttle
            .is_none_or(|t: Throttle| self.tokens[edge.index()] > t.max_tokens / 2.0)
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
    fn ended(&mut self, edge: EdgeId, b: &Breaker, ok: bool, now: SimTime) -> bool {
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
