//! The call graph of a run as a map, `topology.svg`: each service a box (its instances at the
//! end, and the peak when that is higher; its CPU utilisation), each edge an arrow from caller
//! to callee labelled with its calls per second and error rate, and the saturated service
//! marked. Drawn only when the model has an edge (`RunSummary::calls` lists every edge of the
//! model, taken or not): a single service has no topology to show.
//!
//! One panel per variant, stacked, each from that variant's replication 0 (as the time-series
//! plots): variants differ in what saturates and where the errors start, which is what the
//! map is read for, so every variant gets its own. A panel is as tall as its graph needs and
//! the document grows downwards, as `replicas.svg` does with many variants; variants that
//! keep the call graph get the same layout, so a service's box sits at the same place in
//! every panel.
//!
//! Layout, in columns by call depth: the clients on the left, then the services they send to,
//! then what those call, and so on. A service called at several depths sits at its deepest
//! (the longest chain of calls from the clients to it), so every arrow but those closing a
//! cycle points to the right. Cycles are found by a depth-first search from the clients (then
//! from any service not reached, in model order), and the edges that close one ("back edges":
//! a call back to a service on the current path, or to the service itself) are left out of
//! the depth and drawn underneath the boxes instead: out of the caller's right side, down to a
//! lane of their own below every box, back left and into the callee's left side. The search
//! visits each edge once, so a cycle cannot hang the layout. An arrow that skips a column
//! passes through it in a slot of its own, so no arrow crosses a box; the order within each
//! column comes from a few sweeps of the barycentre heuristic (each slot towards the mean
//! position of its neighbours in the previous, then the next, column), which untangles most
//! crossings. Arrows leave a box spread down its right side and enter spread down the left,
//! each in the order of its other end, and a box with many of them grows taller rather than
//! let their heads touch.
//!
//! Edges between the same two services and of the same kind are merged, their calls summed:
//! `gateway.home -> users.get` and `gateway.login -> users.auth` are one arrow `gateway ->
//! users`. Its label is its rate (calls / measured seconds; `idle` in grey when it had none)
//! and, when any call failed, its error rate: calls that ended other than `ok` over calls that
//! ended (those still in flight at the end are neither). A message to a worker pool (`=>`) is
//! a dashed arrow; an arrow from the clients carries the requests the clients sent to that
//! service's endpoints, and their error rate as the clients saw it.
//!
//! **Saturated**, exactly: the service with the highest CPU utilisation (busy over serving
//! core-time, the first in model order on a tie) when that is at least [`CPU_SATURATED`];
//! when no service reaches it, the service with the longest mean queue per instance (its
//! `mean_queue_length`, requests waiting for admission or a core summed over instances,
//! divided by its peak instances) when that is at least [`QUEUE_SATURATED`], which is what an
//! M/M/1 server at 90% holds. At most one service per variant is marked: a red border and a
//! red "saturated" above its box (with the queue when the queue decided).
//!
//! Each box and each arrow is one `<g class="series">` group, named after the variant:
//! `VARIANT: SERVICE` for a box, `VARIANT: (clients)` for the clients, `VARIANT: CALLER ->
//! CALLEE` for calls, `VARIANT: CALLER => CALLEE` for messages and `VARIANT: (clients) ->
//! SERVICE` for the clients' requests (service names cannot hold parentheses, so no service
//! group can take the clients' name). Text goes through plotters, which escapes it for XML;
//! every coordinate is an integer computed from the report alone.

use super::chart::*;
use super::{Plot, PlotError, TOPOLOGY_FILE};
use crate::report::Report;
use crate::simulation::{RunSummary, ServiceSummary};
use indexmap::IndexMap;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

// `report.html`'s caption for this plot (`html.rs`) states both thresholds in words.

/// CPU utilisation at or above which the busiest service is marked saturated.
pub const CPU_SATURATED: f64 = 0.9;
/// Requests waiting per instance at or above which the longest queue is marked saturated when
/// no service reaches [`CPU_SATURATED`]: an M/M/1 server at 90% utilisation queues 8.1 on
/// average.
pub const QUEUE_SATURATED: f64 = 8.0;

const HEADER: u32 = 96;
/// Beside the outer columns; holds the arrows that leave the last column to close a cycle.
const MARGIN_X: i32 = 48;
/// Columns are this far apart: room for an arrow's label between them.
const GAP: i32 = 190;
const BOX_H: i32 = 80;
/// The least distance between two arrows' ends on a box's side: a box with many arrows on
/// one side grows taller rather than let their heads touch.
const PORT_PITCH: i32 = 14;
/// The height of the slot an arrow takes when it passes through a column.
const PASS_H: i32 = 14;
/// Between slots of a column; holds the "saturated" mark above a box.
const SLOT_GAP: i32 = 34;
/// Above a panel's boxes: its caption and room for a "saturated" mark on a top box.
const PANEL_TOP: i32 = 56;
/// A lane for each arrow that closes a cycle, below the boxes.
const LANE: i32 = 40;
const PANEL_BOTTOM: i32 = 20;
/// The straight piece of an arrow where it leaves or enters a box, and its head.
const STUB: i32 = 14;
const HEAD: i32 = 10;
/// Line height of a label, and the width of one of its characters (13-unit text).
const LINE_H: i32 = 15;
const CHAR_PX: f64 = 6.8;
/// Names longer than this are shortened in their box (the group keeps the whole name).
const MAX_NAME: usize = 30;

const BOX_FILL: RGBColor = RGBColor(246, 247, 250);
const BOX_BORDER: RGBColor = RGBColor(90, 90, 90);
const CLIENT_FILL: RGBColor = RGBColor(234, 234, 234);
const EDGE: RGBColor = RGBColor(70, 70, 70);
const CLIENT_EDGE: RGBColor = RGBColor(135, 135, 135);
const IDLE: RGBColor = RGBColor(195, 195, 195);
const BAR_BACK: RGBColor = RGBColor(225, 225, 225);
const NOTE: RGBColor = RGBColor(70, 70, 70);

/// What an arrow stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Requests from the clients to a service's endpoints.
    Client,
    /// Calls (`->`).
    Call,
    /// Messages to a worker pool (`=>`).
    Message,
}

/// A box: the clients (node 0) or a service.
#[derive(Debug)]
struct Node {
    /// The name in the group: the service's, or `(clients)`.
    series: String,
    /// The name in the box.
    title: String,
    /// The lines under it.
    lines: Vec<String>,
    /// CPU utilisation (a fraction), for a service.
    cpu: Option<f64>,
    /// The mark above the box, when it is the saturated one.
    saturated: Option<String>,
}

/// An arrow: edges of one kind between two boxes, merged.
#[derive(Debug)]
struct Link {
    from: usize,
    to: usize,
    kind: Kind,
    calls: u64,
    ok: u64,
    ended: u64,
}

impl Link {
    fn series(&self, nodes: &[Node]) -> String {
        let arrow = if self.kind == Kind::Message {
            "=>"
        } else {
            "->"
        };
        format!(
            "{} {arrow} {}",
            nodes[self.from].series, nodes[self.to].series
        )
    }

    /// The label's lines: the rate (or `idle`), and the error rate when there were errors.
    fn label(&self, measured_s: f64) -> Vec<(String, RGBColor)> {
        if self.calls == 0 {
            return vec![("idle".into(), IDLE)];
        }
        let unit = match self.kind {
            Kind::Client => "req/s",
            Kind::Call => "calls/s",
            Kind::Message => "msgs/s",
        };
        let rate = self.calls as f64 / measured_s;
        let rate = if rate.is_finite() {
            fmt_num(rate)
        } else {
            "?".into()
        };
        let mut lines = vec![(format!("{rate} {unit}"), BLACK)];
        let failed = self.ended.saturating_sub(self.ok);
        if failed > 0 {
            let share = 100.0 * failed as f64 / self.ended as f64;
            lines.push((format!("{}% errors", fmt_num(share)), SLO_RED));
        }
        lines
    }

    fn colour(&self) -> RGBColor {
        if self.calls == 0 {
            IDLE
        } else if self.kind == Kind::Client {
            CLIENT_EDGE
        } else {
            EDGE
        }
    }
}

/// Why a service is marked saturated.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Saturation {
    /// Its CPU utilisation is the highest and at least [`CPU_SATURATED`].
    Cpu,
    /// No CPU reaches that, and its queue per instance is the longest and at least
    /// [`QUEUE_SATURATED`].
    Queue(f64),
}

/// The saturated service (by index in `services`), if any: see the module's documentation.
fn saturated(services: &IndexMap<String, ServiceSummary>) -> Option<(usize, Saturation)> {
    saturated_of(services.values().map(|s| {
        let queue = s.mean_queue_length / f64::from(s.peak_instances.max(1));
        (s.cpu_utilisation, queue)
    }))
}

/// [`saturated`] over (CPU utilisation, mean queue per instance) of each service, in model
/// order. Values that are not finite never count.
fn saturated_of(services: impl Iterator<Item = (f64, f64)>) -> Option<(usize, Saturation)> {
    let mut busiest: Option<(usize, f64)> = None;
    let mut deepest: Option<(usize, f64)> = None;
    for (i, (u, q)) in services.enumerate() {
        if u.is_finite() && busiest.is_none_or(|(_, b)| u > b) {
            busiest = Some((i, u));
        }
        if q.is_finite() && deepest.is_none_or(|(_, d)| q > d) {
            deepest = Some((i, q));
        }
    }
    if let Some((i, _)) = busiest.filter(|(_, u)| *u >= CPU_SATURATED) {
        return Some((i, Saturation::Cpu));
    }
    deepest
        .filter(|(_, q)| *q >= QUEUE_SATURATED)
        .map(|(i, q)| (i, Saturation::Queue(q)))
}

/// The service an endpoint key (`service.endpoint`) belongs to: the longest service name
/// followed by a dot.
fn service_of(services: &IndexMap<String, ServiceSummary>, endpoint: &str) -> Option<usize> {
    services
        .keys()
        .enumerate()
        .filter(|(_, s)| {
            endpoint
                .strip_prefix(s.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .max_by_key(|(_, s)| s.len())
        .map(|(i, _)| i)
}

/// The boxes and arrows of one run.
#[derive(Debug)]
struct Graph {
    nodes: Vec<Node>,
    links: Vec<Link>,
    measured_s: f64,
}

impl Graph {
    fn new(s: &RunSummary) -> Graph {
        let rate = s.arrivals as f64 / s.measured_s;
        let mut nodes = vec![Node {
            series: "(clients)".into(),
            title: "clients".into(),
            lines: vec![if rate.is_finite() {
                format!("{} req/s", fmt_num(rate))
            } else {
                "? req/s".into()
            }],
            cpu: None,
            saturated: None,
        }];
        let marked = saturated(&s.services);
        for (i, (name, svc)) in s.services.iter().enumerate() {
            let instances = match (svc.instances, svc.peak_instances) {
                (1, p) if p <= 1 => "1 instance".to_string(),
                (n, p) if p <= n => format!("{n} instances"),
                (n, p) => format!("{n} instances (peak {p})"),
            };
            let cpu = svc.cpu_utilisation;
            let cpu_line = if cpu.is_finite() {
                format!("CPU {}%", fmt_num(100.0 * cpu))
            } else {
                "CPU ?".into()
            };
            let saturated = match marked {
                Some((m, Saturation::Cpu)) if m == i => Some("saturated".to_string()),
                Some((m, Saturation::Queue(q))) if m == i => {
                    Some(format!("saturated: {} queued per instance", fmt_num(q)))
                }
                _ => None,
            };
            nodes.push(Node {
                series: name.clone(),
                title: shorten(name),
                lines: vec![instances, cpu_line],
                cpu: cpu.is_finite().then_some(cpu),
                saturated,
            });
        }
        let mut links: Vec<Link> = Vec::new();
        let mut add =
            |from: usize, to: usize, kind: Kind, calls: u64, outcomes: &IndexMap<String, u64>| {
                let ok = outcomes.get("ok").copied().unwrap_or(0);
                let ended: u64 = outcomes.values().sum();
                match links
                    .iter_mut()
                    .find(|l| l.from == from && l.to == to && l.kind == kind)
                {
                    Some(l) => {
                        l.calls += calls;
                        l.ok += ok;
                        l.ended += ended;
                    }
                    None => links.push(Link {
                        from,
                        to,
                        kind,
                        calls,
                        ok,
                        ended,
                    }),
                }
            };
        // The clients' requests, by the service they went to, in model order.
        let mut entries: Vec<(usize, u64, &IndexMap<String, u64>)> = s
            .endpoints
            .iter()
            .filter(|(_, e)| e.arrivals > 0)
            .filter_map(|(key, e)| Some((service_of(&s.services, key)?, e.arrivals, &e.outcomes)))
            .collect();
        entries.sort_by_key(|(svc, _, _)| *svc);
        for (svc, arrivals, outcomes) in entries {
            add(0, 1 + svc, Kind::Client, arrivals, outcomes);
        }
        for (name, c) in &s.calls {
            let (caller, kind, callee) = match (name.split_once(" -> "), name.split_once(" => ")) {
                (Some((a, b)), _) => (a, Kind::Call, b),
                (None, Some((a, b))) => (a, Kind::Message, b),
                (None, None) => continue,
            };
            let (Some(from), Some(to)) = (
                service_of(&s.services, caller),
                service_of(&s.services, callee),
            ) else {
                continue;
            };
            add(1 + from, 1 + to, kind, c.calls, &c.outcomes);
        }
        Graph {
            nodes,
            links,
            measured_s: s.measured_s,
        }
    }
}

fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_NAME {
        return name.to_string();
    }
    let head: String = name.chars().take(MAX_NAME - 1).collect();
    format!("{head}…")
}

/// Where things go, in slots: the first `nodes` slots are the boxes, the others are arrows
/// passing through a column.
#[derive(Debug)]
struct Layout {
    /// Each slot's column.
    column: Vec<usize>,
    /// Each column's slots, top to bottom.
    columns: Vec<Vec<usize>>,
    /// Per link: the slots it runs through, caller first and callee last; `None` for a link
    /// that closes a cycle.
    chains: Vec<Option<Vec<usize>>>,
}

impl Layout {
    /// Columns by longest path from the clients over the graph without its back edges, then
    /// passing slots for links that skip columns, then barycentre ordering. O((nodes + links) x
    /// columns) with the passing slots; the graphs are small.
    fn new(g: &Graph) -> Layout {
        let n = g.nodes.len();
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (k, l) in g.links.iter().enumerate() {
            out[l.from].push(k);
        }
        // Depth-first search, iterative: a link to a node on the stack closes a cycle.
        let mut state = vec![0u8; n]; // 0 unseen, 1 on the stack, 2 done
        let mut back = vec![false; g.links.len()];
        let mut post = Vec::with_capacity(n);
        for root in 0..n {
            if state[root] != 0 {
                continue;
            }
            state[root] = 1;
            let mut stack = vec![(root, 0usize)];
            while let Some(&(u, next)) = stack.last() {
                if let Some(&k) = out[u].get(next) {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    let v = g.links[k].to;
                    match state[v] {
                        0 => {
                            state[v] = 1;
                            stack.push((v, 0));
                        }
                        1 => back[k] = true,
                        _ => {}
                    }
                } else {
                    state[u] = 2;
                    post.push(u);
                    stack.pop();
                }
            }
        }
        // Reverse post-order is a topological order of the links that are not back links.
        let mut depth: Vec<usize> = (0..n).map(|i| usize::from(i > 0)).collect();
        for &u in post.iter().rev() {
            for &k in &out[u] {
                if !back[k] {
                    let v = g.links[k].to;
                    depth[v] = depth[v].max(depth[u] + 1);
                }
            }
        }
        let width = depth.iter().max().map_or(1, |d| d + 1);
        let mut column = depth.clone();
        let mut columns: Vec<Vec<usize>> = vec![Vec::new(); width];
        for (i, d) in depth.iter().enumerate() {
            columns[*d].push(i);
        }
        let mut chains = Vec::with_capacity(g.links.len());
        for (k, l) in g.links.iter().enumerate() {
            if back[k] {
                chains.push(None);
                continue;
            }
            let mut chain = vec![l.from];
            let skipped = columns
                .iter_mut()
                .enumerate()
                .take(depth[l.to])
                .skip(depth[l.from] + 1);
            for (d, col) in skipped {
                let slot = column.len();
                column.push(d);
                col.push(slot);
                chain.push(slot);
            }
            chain.push(l.to);
            chains.push(Some(chain));
        }
        let mut layout = Layout {
            column,
            columns,
            chains,
        };
        layout.untangle();
        layout
    }

    /// Barycentre sweeps: each column sorted by the mean position of its slots' neighbours in
    /// the column before (then, sweeping back, after); a slot without any keeps its place.
    /// Stable sorts on a total order: deterministic.
    fn untangle(&mut self) {
        let slots = self.column.len();
        let mut before: Vec<Vec<usize>> = vec![Vec::new(); slots];
        let mut after: Vec<Vec<usize>> = vec![Vec::new(); slots];
        for chain in self.chains.iter().flatten() {
            for w in chain.windows(2) {
                after[w[0]].push(w[1]);
                before[w[1]].push(w[0]);
            }
        }
        let mut pos = vec![0usize; slots];
        let place = |columns: &[Vec<usize>], pos: &mut [usize]| {
            for col in columns {
                for (i, s) in col.iter().enumerate() {
                    pos[*s] = i;
                }
            }
        };
        place(&self.columns, &mut pos);
        let last = self.columns.len().saturating_sub(1);
        for _ in 0..4 {
            let down = (1..=last).map(|c| (c, &before));
            let up = (0..last).rev().map(|c| (c, &after));
            for (c, neighbours) in down.chain(up) {
                let key = |s: usize| -> f64 {
                    let ns = &neighbours[s];
                    if ns.is_empty() {
                        pos[s] as f64
                    } else {
                        ns.iter().map(|&t| pos[t] as f64).sum::<f64>() / ns.len() as f64
                    }
                };
                let mut keyed: Vec<(f64, usize)> =
                    self.columns[c].iter().map(|&s| (key(s), s)).collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                self.columns[c] = keyed.into_iter().map(|(_, s)| s).collect();
                for (i, s) in self.columns[c].iter().enumerate() {
                    pos[*s] = i;
                }
            }
        }
    }

    fn back_links(&self) -> usize {
        self.chains.iter().filter(|c| c.is_none()).count()
    }
}

/// A variant's panel: its graph and its layout.
struct Panel<'a> {
    variant: &'a str,
    colour: RGBColor,
    graph: Graph,
    layout: Layout,
}

/// Pixel geometry shared by every panel: the width of a box and of the clients' box.
struct Sizes {
    box_w: i32,
    client_w: i32,
    columns: usize,
    /// Left edge of the first column.
    left: i32,
}

impl Sizes {
    fn col_left(&self, c: usize) -> i32 {
        if c == 0 {
            self.left
        } else {
            self.left + self.client_w + GAP + (c as i32 - 1) * (self.box_w + GAP)
        }
    }

    fn col_width(&self, c: usize) -> i32 {
        if c == 0 { self.client_w } else { self.box_w }
    }

    fn needed_width(&self) -> i32 {
        self.col_left(self.columns.max(1) - 1) + self.col_width(self.columns.max(1) - 1) - self.left
    }
}

/// Text width estimate in pixels for `chars` characters of 13-unit text (bold 15-unit titles
/// take `bold` = true).
fn text_px(text: &str, bold: bool) -> i32 {
    let per = if bold { 8.0 } else { CHAR_PX };
    (text.chars().count() as f64 * per).ceil() as i32
}

/// Where a panel's slots are, vertically.
struct Rows {
    top: Vec<i32>,
    height: Vec<i32>,
    /// Below the lowest box.
    bottom: i32,
}

impl Rows {
    fn new(layout: &Layout, g: &Graph, top: i32) -> Rows {
        let nodes = g.nodes.len();
        let slots = layout.column.len();
        let height: Vec<i32> = (0..slots)
            .map(|s| {
                if s >= nodes {
                    return PASS_H;
                }
                let outs = g.links.iter().filter(|l| l.from == s).count();
                let ins = g.links.iter().filter(|l| l.to == s).count();
                BOX_H.max(PORT_PITCH * (outs.max(ins) as i32 + 1))
            })
            .collect();
        let column_height = |col: &Vec<usize>| -> i32 {
            col.iter().map(|s| height[*s]).sum::<i32>() + SLOT_GAP * (col.len() as i32 - 1).max(0)
        };
        let tallest = layout.columns.iter().map(column_height).max().unwrap_or(0);
        let mut tops = vec![0; slots];
        for col in &layout.columns {
            let mut y = top + (tallest - column_height(col)) / 2;
            for s in col {
                tops[*s] = y;
                y += height[*s] + SLOT_GAP;
            }
        }
        Rows {
            top: tops,
            height,
            bottom: top + tallest,
        }
    }

    fn centre(&self, s: usize) -> i32 {
        self.top[s] + self.height[s] / 2
    }
}

fn panel_height(p: &Panel<'_>) -> i32 {
    let rows = Rows::new(&p.layout, &p.graph, 0);
    PANEL_TOP + rows.bottom + LANE * p.layout.back_links() as i32 + PANEL_BOTTOM
}

/// The topology of each variant's replication 0: see the module's documentation. `None` when
/// no run has an edge between services.
pub fn topology(report: &Report) -> Result<Option<Plot>, PlotError> {
    if report.runs.iter().all(|r| r.summary.calls.is_empty()) {
        return Ok(None);
    }
    let panels: Vec<Panel<'_>> = report
        .variants
        .keys()
        .enumerate()
        .filter_map(|(i, name)| {
            let run = report
                .runs
                .iter()
                .find(|r| r.variant == *name && r.replication == 0)
                .or_else(|| report.runs.iter().find(|r| r.variant == *name))?;
            let graph = Graph::new(&run.summary);
            let layout = Layout::new(&graph);
            Some(Panel {
                variant: name,
                colour: variant_colour(i),
                graph,
                layout,
            })
        })
        .collect();
    let widest = |nodes: &mut dyn Iterator<Item = &Node>| -> i32 {
        nodes
            .flat_map(|n| {
                let lines = n.lines.iter().map(|l| text_px(l, false));
                let mark = n.saturated.iter().map(|l| text_px(l, true));
                [text_px(&n.title, true)]
                    .into_iter()
                    .chain(lines)
                    .chain(mark)
            })
            .max()
            .unwrap_or(0)
            + 24
    };
    let box_w = widest(&mut panels.iter().flat_map(|p| &p.graph.nodes[1..])).max(150);
    let client_w = widest(&mut panels.iter().map(|p| &p.graph.nodes[0])).max(110);
    let columns = panels
        .iter()
        .map(|p| p.layout.columns.len())
        .max()
        .unwrap_or(1);
    let mut sizes = Sizes {
        box_w,
        client_w,
        columns,
        left: 0,
    };
    let needed = sizes.needed_width() + 2 * MARGIN_X;
    let width = needed.max(WIDTH as i32);
    sizes.left = (width - sizes.needed_width()) / 2;
    let heights: Vec<i32> = panels.iter().map(panel_height).collect();
    let height = HEADER as i32 + heights.iter().sum::<i32>();
    let svg = render_svg((width as u32, height as u32), |root| {
        let (header, _) = root.split_vertically(HEADER);
        draw_title(
            &header,
            &format!(
                "{}: services and calls per variant (replication 0)",
                report.experiment
            ),
        )?;
        let notes = [
            "Boxes: services, with their instances at the end (and the peak, if higher) and CPU utilisation; clients on the left, then services by call depth.".to_string(),
            "Arrows: from caller to callee, with calls per second and the error rate (calls that ended other than ok); dashed: messages nobody waits for (to a worker pool, or a cache's writes behind); grey: no calls.".to_string(),
            format!(
                "Red border: the saturated service, the busiest if its CPU utilisation is at least {}%, else the longest queue if at least {} per instance.",
                fmt_num(100.0 * CPU_SATURATED),
                fmt_num(QUEUE_SATURATED)
            ),
        ];
        for (i, note) in notes.iter().enumerate() {
            root.draw(&Text::new(
                note.clone(),
                (12, 40 + 18 * i as i32),
                text_style(13, NOTE).pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
        }
        let mut top = HEADER as i32;
        for (p, h) in panels.iter().zip(&heights) {
            draw_panel(root, p, &sizes, top, width)?;
            top += h;
        }
        Ok(())
    })
    .map_err(|e| plot_error(TOPOLOGY_FILE, &e))?;
    Ok(Some(Plot {
        file_name: TOPOLOGY_FILE.to_string(),
        svg,
    }))
}

/// A label's box, to keep labels apart.
#[derive(Debug, Clone, Copy)]
struct LabelBox {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

impl LabelBox {
    fn around(centre: (i32, i32), lines: &[(String, RGBColor)]) -> LabelBox {
        let w = lines
            .iter()
            .map(|(t, _)| text_px(t, false))
            .max()
            .unwrap_or(0)
            + 8;
        let h = LINE_H * lines.len() as i32 + 4;
        LabelBox {
            x0: centre.0 - w / 2,
            y0: centre.1 - h / 2,
            x1: centre.0 - w / 2 + w,
            y1: centre.1 - h / 2 + h,
        }
    }

    fn overlaps(&self, o: &LabelBox) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

fn draw_panel(root: &Area<'_>, p: &Panel<'_>, sizes: &Sizes, top: i32, width: i32) -> Drawn {
    let g = &p.graph;
    let layout = &p.layout;
    let n = g.nodes.len();
    if top > HEADER as i32 {
        root.draw(&PathElement::new(
            vec![(0, top), (width, top)],
            GRID.stroke_width(1),
        ))?;
    }
    root.draw(&Text::new(
        p.variant.to_string(),
        (12, top + 10),
        (FONT, 15, FontStyle::Bold)
            .into_font()
            .color(&p.colour)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    let rows = Rows::new(layout, g, top + PANEL_TOP);
    let left = |s: usize| sizes.col_left(layout.column[s]);
    let right = |s: usize| left(s) + sizes.col_width(layout.column[s]);

    // Ports: the arrows leaving a box spread down its right side, those entering down its
    // left side, each in the order of the slot at its other end (links closing a cycle
    // last, as they run below); a passing slot has one port, at its centre.
    let mut out_port = vec![0; g.links.len()];
    let mut in_port = vec![0; g.links.len()];
    for node in 0..n {
        let mut outs: Vec<(i32, usize)> = Vec::new();
        let mut ins: Vec<(i32, usize)> = Vec::new();
        for (k, l) in g.links.iter().enumerate() {
            let chain = layout.chains[k].as_deref();
            if l.from == node {
                let key = chain.map_or(i32::MAX, |c| rows.centre(c[1]));
                outs.push((key, k));
            }
            if l.to == node {
                let key = chain.map_or(i32::MAX, |c| rows.centre(c[c.len() - 2]));
                ins.push((key, k));
            }
        }
        outs.sort();
        ins.sort();
        let spread = |count: usize, i: usize| {
            rows.top[node] + (rows.height[node] * (i as i32 + 1)) / (count as i32 + 1)
        };
        for (i, (_, k)) in outs.iter().enumerate() {
            out_port[*k] = spread(outs.len(), i);
        }
        for (i, (_, k)) in ins.iter().enumerate() {
            in_port[*k] = spread(ins.len(), i);
        }
    }

    let mut placed: Vec<LabelBox> = Vec::new();
    let mut lane: i32 = 0;
    for (k, l) in g.links.iter().enumerate() {
        let colour = l.colour();
        let label = l.label(g.measured_s);
        let (from, to) = (l.from, l.to);
        let end = (sizes.col_left(layout.column[to]), in_port[k]);
        let mut points = vec![(right(from), out_port[k])];
        let centre = match layout.chains[k].as_deref() {
            Some(chain) => {
                points.push((right(from) + STUB, out_port[k]));
                for &s in &chain[1..chain.len() - 1] {
                    points.push((left(s), rows.centre(s)));
                    points.push((right(s), rows.centre(s)));
                }
                points.push((end.0 - HEAD - STUB, end.1));
                points.push((end.0 - HEAD, end.1));
                // On the stretch between the caller's column and the next, where it is
                // clear of other labels.
                let a = points[1];
                let b = points[2];
                place_label(&mut placed, &label, a, b, (right(from), left(chain[1])))
            }
            None => {
                let shift = 7 * (lane % 4);
                let y = rows.bottom + LANE * lane + LANE / 2 + 4;
                let xa = right(from) + 10 + shift;
                let xb = end.0 - HEAD - STUB - 10 - shift;
                lane += 1;
                points.extend([
                    (xa, out_port[k]),
                    (xa, y),
                    (xb, y),
                    (xb, end.1),
                    (end.0 - HEAD, end.1),
                ]);
                let c = ((xa + xb) / 2, y);
                placed.push(LabelBox::around(c, &label));
                c
            }
        };
        in_series(
            root,
            &format!("{}: {}", p.variant, l.series(&g.nodes)),
            || {
                let style = colour.stroke_width(2);
                if l.kind == Kind::Message {
                    root.draw(&plotters::element::DashedPathElement::new(
                        points.clone(),
                        8,
                        5,
                        style,
                    ))?;
                } else {
                    root.draw(&PathElement::new(points.clone(), style))?;
                }
                root.draw(&Polygon::new(
                    vec![end, (end.0 - HEAD, end.1 - 5), (end.0 - HEAD, end.1 + 5)],
                    colour.filled(),
                ))?;
                draw_label(root, centre, &label)
            },
        )?;
    }

    for (i, node) in g.nodes.iter().enumerate() {
        let (x0, y0) = (left(i), rows.top[i]);
        let (x1, y1) = (right(i), y0 + rows.height[i]);
        in_series(root, &format!("{}: {}", p.variant, node.series), || {
            let fill = if i == 0 { CLIENT_FILL } else { BOX_FILL };
            root.draw(&Rectangle::new([(x0, y0), (x1, y1)], fill.filled()))?;
            match &node.saturated {
                Some(mark) => {
                    root.draw(&Rectangle::new(
                        [(x0, y0), (x1, y1)],
                        SLO_RED.stroke_width(3),
                    ))?;
                    root.draw(&Text::new(
                        mark.clone(),
                        (x0, y0 - 4),
                        (FONT, 14, FontStyle::Bold)
                            .into_font()
                            .color(&SLO_RED)
                            .pos(Pos::new(HPos::Left, VPos::Bottom)),
                    ))?;
                }
                None => {
                    root.draw(&Rectangle::new(
                        [(x0, y0), (x1, y1)],
                        BOX_BORDER.stroke_width(1),
                    ))?;
                }
            }
            let mid = (x0 + x1) / 2;
            root.draw(&Text::new(
                node.title.clone(),
                (mid, y0 + 9),
                (FONT, 15, FontStyle::Bold)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
            for (j, line) in node.lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (mid, y0 + 31 + 16 * j as i32),
                    text_style(13, BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
                ))?;
            }
            if let Some(cpu) = node.cpu {
                let (bx0, bx1) = (x0 + 12, x1 - 12);
                let (by0, by1) = (y1 - 14, y1 - 8);
                root.draw(&Rectangle::new([(bx0, by0), (bx1, by1)], BAR_BACK.filled()))?;
                let filled = (f64::from(bx1 - bx0) * cpu.clamp(0.0, 1.0)).round() as i32;
                if filled > 0 {
                    let colour = if cpu >= CPU_SATURATED {
                        SLO_RED
                    } else {
                        p.colour
                    };
                    root.draw(&Rectangle::new(
                        [(bx0, by0), (bx0 + filled, by1)],
                        colour.filled(),
                    ))?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Where a label goes on the stretch from `a` to `b` (within `gap`, the x range between two
/// columns): the first of a few points along it whose label overlaps no label placed before,
/// or the middle when none is clear. Records the label's box in `placed`.
fn place_label(
    placed: &mut Vec<LabelBox>,
    lines: &[(String, RGBColor)],
    a: (i32, i32),
    b: (i32, i32),
    gap: (i32, i32),
) -> (i32, i32) {
    let half = LabelBox::around((0, 0), lines).x1;
    let (lo, hi) = (gap.0 + half + 3, gap.1 - half - 3);
    let at = |t: f64| -> (i32, i32) {
        let x = f64::from(a.0) + t * f64::from(b.0 - a.0);
        let x = (x.round() as i32).clamp(lo.min(hi), hi.max(lo));
        let y = if x <= a.0 {
            a.1
        } else if x >= b.0 || b.0 == a.0 {
            b.1
        } else {
            let f = f64::from(x - a.0) / f64::from(b.0 - a.0);
            (f64::from(a.1) + f * f64::from(b.1 - a.1)).round() as i32
        };
        (x, y)
    };
    let chosen = [0.5, 0.3, 0.7, 0.15, 0.85]
        .into_iter()
        .map(at)
        .find(|c| {
            let mine = LabelBox::around(*c, lines);
            !placed.iter().any(|o| o.overlaps(&mine))
        })
        .unwrap_or_else(|| at(0.5));
    placed.push(LabelBox::around(chosen, lines));
    chosen
}

/// A label's lines centred on `centre`, over a white patch that hides the line beneath.
fn draw_label(root: &Area<'_>, centre: (i32, i32), lines: &[(String, RGBColor)]) -> Drawn {
    let b = LabelBox::around(centre, lines);
    root.draw(&Rectangle::new(
        [(b.x0, b.y0), (b.x1, b.y1)],
        WHITE.mix(0.9).filled(),
    ))?;
    for (j, (text, colour)) in lines.iter().enumerate() {
        root.draw(&Text::new(
            text.clone(),
            (centre.0, b.y0 + 2 + LINE_H * j as i32 + LINE_H / 2),
            text_style(13, *colour).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> Node {
        Node {
            series: name.into(),
            title: name.into(),
            lines: Vec::new(),
            cpu: None,
            saturated: None,
        }
    }

    fn graph(nodes: usize, links: &[(usize, usize)]) -> Graph {
        Graph {
            nodes: (0..nodes).map(|i| node(&format!("n{i}"))).collect(),
            links: links
                .iter()
                .map(|&(from, to)| Link {
                    from,
                    to,
                    kind: if from == 0 { Kind::Client } else { Kind::Call },
                    calls: 1,
                    ok: 1,
                    ended: 1,
                })
                .collect(),
            measured_s: 1.0,
        }
    }

    #[test]
    fn services_sit_at_their_deepest_and_cycles_are_drawn_below() {
        // clients -> 1 -> 2 -> 3, 1 -> 3 skips a column, 3 -> 1 and 2 -> 2 close cycles;
        // 4 is reached by nobody.
        let g = graph(5, &[(0, 1), (1, 2), (2, 3), (1, 3), (3, 1), (2, 2)]);
        let layout = Layout::new(&g);
        assert_eq!(&layout.column[..5], [0, 1, 2, 3, 1]);
        assert_eq!(layout.columns.len(), 4);
        let chains: Vec<Option<usize>> = layout
            .chains
            .iter()
            .map(|c| c.as_ref().map(Vec::len))
            .collect();
        // The skip passes through column 2 in a slot of its own.
        assert_eq!(chains, [Some(2), Some(2), Some(2), Some(3), None, None]);
        assert_eq!(layout.back_links(), 2);
        let pass = layout.chains[3].as_ref().unwrap()[1];
        assert!(pass >= 5 && layout.column[pass] == 2);
        assert!(layout.columns[2].contains(&pass));
    }

    #[test]
    fn a_cycle_through_every_service_still_ends() {
        // Every service calls the next, the last calls the first: one back link.
        let n = 40;
        let mut links: Vec<(usize, usize)> = vec![(0, 1)];
        links.extend((1..n - 1).map(|i| (i, i + 1)));
        links.push((n - 1, 1));
        let layout = Layout::new(&graph(n, &links));
        assert_eq!(layout.columns.len(), n);
        assert_eq!(layout.back_links(), 1);
    }

    #[test]
    fn the_busiest_service_saturates_from_90_percent_else_the_longest_queue() {
        assert_eq!(
            saturated_of([(0.5, 0.0), (0.95, 0.0), (0.97, 1.0)].into_iter()),
            Some((2, Saturation::Cpu))
        );
        assert_eq!(
            saturated_of([(0.9, 0.0), (0.9, 20.0)].into_iter()),
            Some((0, Saturation::Cpu)),
            "the first on a tie"
        );
        assert_eq!(
            saturated_of([(0.89, 3.0), (0.2, 12.0)].into_iter()),
            Some((1, Saturation::Queue(12.0)))
        );
        assert_eq!(
            saturated_of([(0.89, 7.9), (f64::NAN, f64::INFINITY)].into_iter()),
            None
        );
        assert_eq!(saturated_of(std::iter::empty()), None);
    }

    #[test]
    fn labels_give_the_rate_and_errors_only_when_some_failed() {
        let link = |kind, calls, ok, ended| Link {
            from: 1,
            to: 2,
            kind,
            calls,
            ok,
            ended,
        };
        let texts =
            |l: Link| -> Vec<String> { l.label(10.0).into_iter().map(|(t, _)| t).collect() };
        assert_eq!(texts(link(Kind::Call, 1234, 1200, 1200)), ["123 calls/s"]);
        assert_eq!(
            texts(link(Kind::Message, 50, 45, 49)),
            ["5 msgs/s", "8.16% errors"]
        );
        assert_eq!(texts(link(Kind::Client, 0, 0, 0)), ["idle"]);
        assert_eq!(shorten("short"), "short");
        assert_eq!(shorten(&"x".repeat(40)).chars().count(), MAX_NAME);
    }
}
