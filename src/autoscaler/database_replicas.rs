//! Go Coffee's read-replica scaler (`database_scaler.go`, `calculateRequiredReadReplicas`):
//! once a period it reads the database's read and write rates, its open connections and its
//! CPU, and sets the read replicas to
//!
//! ```text
//! ratio = reads/s / (writes/s + 1)
//! replicas = 1; if ratio > 5 { 2 }; if ratio > 10 { 3 }
//! if connections > 80 { +1 }; if cpu > 70% { +1 }; at most 5
//! ```
//!
//! The thresholds are the write-up's by default and can be changed. The database's primary
//! is not a read replica: the service's instances are the replicas plus one.

/// The policy as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseReplicasSpec {
    /// Seconds between evaluations (the scaler's ticker).
    pub period_s: f64,
    /// Read/write ratios above which 2, then 3 replicas are asked for (5 and 10).
    pub ratio_steps: [f64; 2],
    /// Open connections (queries at the database) above which one more (80).
    pub connections_above: f64,
    /// CPU utilisation above which one more (0.7).
    pub cpu_above: f64,
    /// Fewest and most read replicas (1 and 5).
    pub min_replicas: u32,
    pub max_replicas: u32,
}

/// What the scaler reads for the period that just ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DatabaseMetrics {
    /// Reads per second routed to the database.
    pub read_qps: f64,
    /// Writes per second committed.
    pub write_qps: f64,
    /// Queries open at the database's instances now.
    pub active_connections: f64,
    /// Busy over serving core-time of its instances, 0 to 1.
    pub cpu: f64,
}

impl DatabaseReplicasSpec {
    /// The read replicas `m` calls for, with the reason.
    pub fn required(&self, m: &DatabaseMetrics) -> (u32, String) {
        let ratio = m.read_qps / (m.write_qps + 1.0);
        let mut n = 1;
        if ratio > self.ratio_steps[0] {
            n = 2;
        }
        if ratio > self.ratio_steps[1] {
            n = 3;
        }
        if m.active_connections > self.connections_above {
            n += 1;
        }
        if m.cpu > self.cpu_above {
            n += 1;
        }
        let n = n.clamp(self.min_replicas, self.max_replicas);
        let reason = format!(
            "read replicas: reads/writes {ratio:.1}, {:.0} connections, CPU {:.0}% -> {n} replicas",
            m.active_connections,
            m.cpu * 100.0
        );
        (n, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> DatabaseReplicasSpec {
        DatabaseReplicasSpec {
            period_s: 60.0,
            ratio_steps: [5.0, 10.0],
            connections_above: 80.0,
            cpu_above: 0.7,
            min_replicas: 1,
            max_replicas: 5,
        }
    }

    fn m(read: f64, write: f64, conn: f64, cpu: f64) -> DatabaseMetrics {
        DatabaseMetrics {
            read_qps: read,
            write_qps: write,
            active_connections: conn,
            cpu,
        }
    }

    #[test]
    fn the_go_coffee_rule_step_by_step() {
        let s = spec();
        assert_eq!(s.required(&m(100.0, 100.0, 0.0, 0.1)).0, 1);
        // The +1 in the denominator: 600 / 101 = 5.94 > 5.
        assert_eq!(s.required(&m(600.0, 100.0, 0.0, 0.1)).0, 2);
        assert_eq!(
            s.required(&m(500.0, 99.0, 0.0, 0.1)).0,
            1,
            "500/100 is not above 5"
        );
        assert_eq!(s.required(&m(2000.0, 100.0, 0.0, 0.1)).0, 3);
        assert_eq!(s.required(&m(2000.0, 100.0, 81.0, 0.1)).0, 4);
        assert_eq!(s.required(&m(2000.0, 100.0, 81.0, 0.71)).0, 5);
        assert_eq!(s.required(&m(1e6, 0.0, 1e3, 1.0)).0, 5, "at most 5");
    }
}
