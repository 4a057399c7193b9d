//! One service's instances by phase: starting (provisioning, start-up, readiness, or a
//! restart), ready (the balancer's candidates), draining (finishing what they hold), each list
//! oldest first, and every instance not yet released in creation order. Every phase change
//! goes through a method here, which moves the instance between the lists, sets its phase, keeps
//! the serving cores (the denominator of utilisation) and tells the balancer whenever its
//! candidates change. What a change sets off elsewhere (billing, counters, events) is the
//! caller's: `scaling.rs`.
//!
//! A stopped instance stays a member until its last time-series bucket has been read; then
//! `release_stopped` gives its slot back to the arena, so per-bucket work follows the instances
//! alive, not every instance the run started.

use super::instances::InstanceArena;
use crate::components::balancer::Balancer;
use crate::components::instance::InstanceSpec;
use crate::components::lifecycle::Phase;
use crate::ids::InstanceId;
use crate::kernel::SimTime;
use crate::metrics::TimeAverage;

/// A service's membership.
#[derive(Debug)]
pub(super) struct Fleet {
    /// Starting, in the order they started (or restarted).
    starting: Vec<InstanceId>,
    /// Ready, in the order they became ready.
    ready: Vec<InstanceId>,
    /// The balancer's candidates: the ready instances its health checks have not taken out
    /// of rotation (in the order they became ready), then, with active checks, the starting
    /// (restarting) ones they still believe healthy.
    candidates: Vec<InstanceId>,
    /// Whether the balancer learns of instances through active health checks only.
    probed: bool,
    /// Draining, in the order they began to.
    draining: Vec<InstanceId>,
    /// Every instance not yet released, in creation order (the order of their serials):
    /// those alive, and those stopped since the last bucket closed.
    members: Vec<InstanceId>,
    /// Members that have stopped.
    stopped: usize,
    /// The replica count last asked for.
    desired: u32,
    /// The shape new instances get (the model's, until a resize), and its version.
    shape: InstanceSpec,
    shape_version: u32,
    /// Cores of serving instances (ready or draining) over time: the denominator of
    /// utilisation.
    serving_cores: TimeAverage,
    /// Most instances ready at once (since the warm-up).
    peak_ready: u32,
}

impl Fleet {
    /// A fleet whose instances `ready` were ready at time zero, in `shape`; `probed` if the
    /// balancer learns of instances through active health checks only.
    pub(super) fn warm(
        shape: InstanceSpec,
        ready: Vec<InstanceId>,
        probed: bool,
        instances: &InstanceArena,
        balancer: &mut Balancer,
    ) -> Fleet {
        let mut serving_cores = TimeAverage::default();
        serving_cores.start(SimTime::ZERO);
        let cores: u32 = ready.iter().map(|&id| instances[id].cores()).sum();
        serving_cores.set(SimTime::ZERO, i64::from(cores));
        let mut fleet = Fleet {
            candidates: Vec::new(),
            probed,
            starting: Vec::new(),
            members: ready.clone(),
            desired: ready.len() as u32,
            peak_ready: ready.len() as u32,
            ready,
            draining: Vec::new(),
            stopped: 0,
            shape,
            shape_version: 0,
            serving_cores,
        };
        fleet.rotate(instances, balancer);
        fleet
    }

    /// The balancer's candidates, recomputed from the lists and what the health checks
    /// believe, and handed to the balancer. O(n).
    pub(super) fn rotate(&mut self, instances: &InstanceArena, balancer: &mut Balancer) {
        self.candidates.clear();
        let in_rotation = |&&id: &&InstanceId| instances[id].passing && !instances[id].ejected;
        let starting: &[InstanceId] = if self.probed { &self.starting } else { &[] };
        self.candidates
            .extend(self.ready.iter().chain(starting).filter(in_rotation));
        balancer.candidates_changed(&self.candidates, instances.slots());
    }

    /// The instances the balancer sends requests to.
    #[inline]
    pub(super) fn candidates(&self) -> &[InstanceId] {
        &self.candidates
    }

    /// Ready instances, in the order they became ready.
    #[inline]
    pub(super) fn ready(&self) -> &[InstanceId] {
        &self.ready
    }

    /// Starting instances, oldest first.
    pub(super) fn starting(&self) -> &[InstanceId] {
        &self.starting
    }

    /// Draining instances, oldest first.
    pub(super) fn draining(&self) -> &[InstanceId] {
        &self.draining
    }

    /// Starting, ready and draining instances (in that order, each list oldest first).
    pub(super) fn live(&self) -> impl Iterator<Item = InstanceId> + '_ {
        self.starting
            .iter()
            .chain(&self.ready)
            .chain(&self.draining)
            .copied()
    }

    /// The ordinal a new instance takes: the smallest no live member holds (as a
    /// StatefulSet replaces pod 2 with a new pod 2). O(n log n) per launch.
    pub(super) fn free_ordinal(&self, instances: &InstanceArena) -> u32 {
        let mut held: Vec<u32> = self
            .members
            .iter()
            .filter(|&&id| instances[id].phase != Phase::Stopped)
            .map(|&id| instances[id].ordinal)
            .collect();
        held.sort_unstable();
        held.dedup();
        // The first gap: position k holds ordinal k until one is missing.
        held.iter()
            .enumerate()
            .find(|&(k, &o)| o != k as u32)
            .map_or(held.len() as u32, |(k, _)| k as u32)
    }

    /// Every instance not yet released, in creation order, stopped ones included.
    pub(super) fn members(&self) -> &[InstanceId] {
        &self.members
    }

    /// Instances that count towards the desired replicas: starting or ready.
    pub(super) fn size(&self) -> u32 {
        (self.starting.len() + self.ready.len()) as u32
    }

    /// The replica count last asked for.
    pub(super) fn desired(&self) -> u32 {
        self.desired
    }

    /// Asks for `replicas` (the caller starts or removes instances to match).
    pub(super) fn set_desired(&mut self, replicas: u32) {
        self.desired = replicas;
    }

    /// The shape new instances get.
    pub(super) fn shape(&self) -> &InstanceSpec {
        &self.shape
    }

    /// The version of [`Fleet::shape`] (0: the model's; each resize adds one).
    pub(super) fn shape_version(&self) -> u32 {
        self.shape_version
    }

    /// New instances (and restarted ones) take `shape` from now on.
    pub(super) fn resize(&mut self, shape: InstanceSpec) {
        self.shape = shape;
        self.shape_version += 1;
    }

    /// Cores of serving instances over time.
    pub(super) fn serving_cores(&mut self) -> &mut TimeAverage {
        &mut self.serving_cores
    }

    /// Most instances ready at once since the warm-up.
    pub(super) fn peak_ready(&self) -> u32 {
        self.peak_ready
    }

    /// The warm-up is over: serving cores and every member's measurements start again at
    /// `mark`, the peak from the instances ready now.
    pub(super) fn reset_measurements(&mut self, mark: SimTime, instances: &mut InstanceArena) {
        self.serving_cores.reset(mark);
        self.peak_ready = self.ready.len() as u32;
        for &id in &self.members {
            instances[id].reset_stats(mark);
        }
    }

    /// `id`, just created as `Starting`, joins the fleet.
    pub(super) fn launched(&mut self, id: InstanceId, instances: &InstanceArena) {
        debug_assert_eq!(instances[id].phase, Phase::Starting);
        self.members.push(id);
        self.starting.push(id);
    }

    /// Starting instance `id` becomes ready at `now` (in the current shape, if a resize came
    /// while it started) and joins the balancer's candidates.
    pub(super) fn become_ready(
        &mut self,
        id: InstanceId,
        instances: &mut InstanceArena,
        balancer: &mut Balancer,
        now: SimTime,
    ) {
        let inst = &mut instances[id];
        debug_assert_eq!(inst.phase, Phase::Starting);
        if inst.group.is_none() && inst.shape_version != self.shape_version {
            inst.reshape(&self.shape, self.shape_version);
        }
        inst.become_ready(now);
        let cores = inst.cores();
        remove(&mut self.starting, id);
        self.ready.push(id);
        self.rotate(instances, balancer);
        self.serving_cores.add(now, i64::from(cores));
        self.peak_ready = self.peak_ready.max(self.ready.len() as u32);
    }

    /// Ready instance `id` leaves the balancer's candidates to finish what it holds. Its cores
    /// stay in the utilisation denominator until it stops: it is still working.
    pub(super) fn begin_draining(
        &mut self,
        id: InstanceId,
        instances: &mut InstanceArena,
        balancer: &mut Balancer,
    ) {
        debug_assert_eq!(instances[id].phase, Phase::Ready);
        remove(&mut self.ready, id);
        self.rotate(instances, balancer);
        self.draining.push(id);
        instances[id].phase = Phase::Draining;
    }

    /// Ready instance `id`'s process dies at `now` and starts again at `process_start`: it
    /// leaves the balancer and the serving cores, and counts as starting until it is ready
    /// again. The caller has taken what it held.
    pub(super) fn restart(
        &mut self,
        id: InstanceId,
        process_start: SimTime,
        instances: &mut InstanceArena,
        balancer: &mut Balancer,
        now: SimTime,
    ) {
        debug_assert_eq!(instances[id].phase, Phase::Ready);
        let cores = instances[id].cores();
        remove(&mut self.ready, id);
        self.starting.push(id);
        self.serving_cores.add(now, -i64::from(cores));
        instances[id].restart(now, process_start);
        // With active checks it stays in rotation, dead, until its probes fail.
        self.rotate(instances, balancer);
    }

    /// Instance `id` (starting, ready or draining) stops at `now`: it leaves its list (and
    /// the balancer, if it was ready) and, if it was serving, the serving cores. The caller
    /// has taken what it held. It stays a member until [`Fleet::release_stopped`].
    pub(super) fn stop(
        &mut self,
        id: InstanceId,
        instances: &mut InstanceArena,
        balancer: &mut Balancer,
        now: SimTime,
    ) {
        let inst = &instances[id];
        let cores = i64::from(inst.cores());
        match inst.phase {
            Phase::Starting => remove(&mut self.starting, id),
            Phase::Ready => {
                remove(&mut self.ready, id);
                self.rotate(instances, balancer);
                self.serving_cores.add(now, -cores);
            }
            Phase::Draining => {
                remove(&mut self.draining, id);
                self.serving_cores.add(now, -cores);
            }
            Phase::Stopped => unreachable!("an instance stops once"),
        }
        instances[id].stop(now);
        self.stopped += 1;
    }

    /// A time-series bucket has been read: stopped members leave and their slots go back to
    /// the arena, except a spot instance whose announced interruption is still to come (it
    /// still counts it, so the slot must keep naming it). O(members) when any has stopped.
    pub(super) fn release_stopped(&mut self, instances: &mut InstanceArena) {
        if self.stopped == 0 {
            return;
        }
        let stopped = &mut self.stopped;
        self.members.retain(|&id| {
            let inst = &instances[id];
            let keep =
                inst.phase != Phase::Stopped || (inst.spot_notified && inst.interruption_due);
            if !keep {
                instances.release(id);
                *stopped -= 1;
            }
            keep
        });
    }
}

/// Takes `id` out of `list` (where it is once), keeping the order of the others.
fn remove(list: &mut Vec<InstanceId>, id: InstanceId) {
    let k = list
        .iter()
        .position(|&i| i == id)
        .expect("an instance is in the list of its phase");
    list.remove(k);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::balancer::{BalancerSpec, LoadView};
    use crate::components::instance::{Instance, Runtime};
    use crate::ids::ServiceId;
    use crate::kernel::stream;

    fn shape() -> InstanceSpec {
        InstanceSpec::plain(2, Runtime::ThreadPool)
    }

    fn launch(fleet: &mut Fleet, instances: &mut InstanceArena, now: SimTime) -> InstanceId {
        let inst = Instance::new(ServiceId(0), fleet.shape(), Phase::Starting, now);
        let id = instances.insert(inst);
        fleet.launched(id, instances);
        id
    }

    #[test]
    fn phase_changes_keep_lists_phases_and_serving_cores_together() {
        let mut instances = InstanceArena::default();
        let mut balancer = Balancer::new(
            BalancerSpec::LeastConnections,
            LoadView::Exact,
            stream(1, 0, "t", "b"),
        );
        let warm: Vec<InstanceId> = (0..2)
            .map(|_| {
                instances.insert(Instance::new(
                    ServiceId(0),
                    &shape(),
                    Phase::Ready,
                    SimTime::ZERO,
                ))
            })
            .collect();
        let mut fleet = Fleet::warm(shape(), warm.clone(), false, &instances, &mut balancer);
        assert_eq!(fleet.serving_cores().level(), 4);
        let t = SimTime::from_nanos;
        let a = launch(&mut fleet, &mut instances, t(1));
        assert_eq!((fleet.size(), fleet.starting()), (3, &[a][..]));
        fleet.become_ready(a, &mut instances, &mut balancer, t(2));
        assert_eq!(fleet.ready(), &[warm[0], warm[1], a]);
        assert_eq!((fleet.serving_cores().level(), fleet.peak_ready()), (6, 3));
        fleet.begin_draining(warm[0], &mut instances, &mut balancer);
        assert_eq!(instances[warm[0]].phase, Phase::Draining);
        assert_eq!(
            fleet.serving_cores().level(),
            6,
            "a draining instance still works"
        );
        fleet.restart(warm[1], t(4), &mut instances, &mut balancer, t(3));
        assert_eq!(fleet.starting(), &[warm[1]]);
        assert_eq!(fleet.serving_cores().level(), 4);
        // The balancer's candidates are the ready list: a pick never names another.
        assert_eq!(
            balancer.pick(fleet.ready(), instances.slots(), 0, 0),
            Some(a)
        );
        fleet.stop(warm[0], &mut instances, &mut balancer, t(5));
        assert_eq!(fleet.serving_cores().level(), 2);
        assert!(fleet.draining().is_empty());
        assert_eq!(
            fleet.members().len(),
            3,
            "stopped, it stays until its bucket is read"
        );
        let stale = instances.reference(warm[0]);
        fleet.release_stopped(&mut instances);
        assert_eq!(fleet.members(), &[warm[1], a]);
        assert_eq!(instances.current(stale), None);
        // The next instance takes the released slot, under a new generation.
        let b = launch(&mut fleet, &mut instances, t(6));
        assert_eq!(b, warm[0]);
        assert_eq!(instances[b].serial, 3);
        assert_eq!(instances.current(stale), None);
        assert_eq!(instances.current(instances.reference(b)), Some(b));
        assert_eq!(instances.capacity_used(), 3);
        assert_eq!(fleet.live().collect::<Vec<_>>(), vec![warm[1], b, a]);
    }

    #[test]
    fn a_notified_spot_instance_keeps_its_slot_until_its_interruption() {
        let mut instances = InstanceArena::default();
        let mut balancer = Balancer::new(
            BalancerSpec::RoundRobin,
            LoadView::Exact,
            stream(1, 0, "t", "b"),
        );
        let mut fleet = Fleet::warm(shape(), Vec::new(), false, &instances, &mut balancer);
        let id = launch(&mut fleet, &mut instances, SimTime::ZERO);
        instances[id].spot_notified = true;
        instances[id].interruption_due = true;
        fleet.stop(id, &mut instances, &mut balancer, SimTime::from_nanos(1));
        fleet.release_stopped(&mut instances);
        assert_eq!(fleet.members(), &[id]);
        instances[id].interruption_due = false;
        fleet.release_stopped(&mut instances);
        assert!(fleet.members().is_empty());
    }
}
