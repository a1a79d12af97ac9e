package snapshot

// Trigger says why a snapshot exists.
type Trigger string

// Triggers.
const (
	TriggerCron     Trigger = "cron"     // a fire at its nominal time
	TriggerManual   Trigger = "manual"   // POST .../trigger
	TriggerCatchup  Trigger = "catchup"  // a fire made up after no leader could write it
	TriggerRetry    Trigger = "retry"    // a new attempt after a failure
	TriggerFailover Trigger = "failover" // a new attempt after its client died
	TriggerBackfill Trigger = "backfill" // a past fire run on request (POST .../backfill)
)

// Triggers lists every Trigger, in the order metrics and docs show them.
func Triggers() []Trigger {
	return []Trigger{TriggerCron, TriggerManual, TriggerCatchup, TriggerRetry, TriggerFailover, TriggerBackfill}
}

// SkipReason says why a nominal fire of a job has no snapshot: its misfire
// or overlap policy decided so. Skipped fires are counted, never silent.
type SkipReason string

// Skip reasons.
const (
	SkipMisfireRunOnce SkipReason = "misfire_run_once"   // collapsed into a later run (misfire run_once)
	SkipMisfire        SkipReason = "misfire_skip"       // missed, and the misfire policy is skip
	SkipMisfireWindow  SkipReason = "misfire_window"     // older than the job's catchup_window
	SkipForbid         SkipReason = "concurrency_forbid" // a run of the job was live (concurrency forbid)
	// SkipTakenBack: the fire was written ahead of its nominal time, then
	// its job changed before it started, so the leader took it back and
	// decided the fire again from the job as it now is. The fire is counted
	// once more if it is written again.
	SkipTakenBack SkipReason = "taken_back"
)

// SkipReasons lists every SkipReason.
func SkipReasons() []SkipReason {
	return []SkipReason{SkipMisfireRunOnce, SkipMisfire, SkipMisfireWindow, SkipForbid, SkipTakenBack}
}

// FailoverReason says why the leader moved a snapshot off its client.
type FailoverReason string

// Failover reasons.
const (
	// FailoverClientLost: the client's registration ended while the leader
	// watched.
	FailoverClientLost FailoverReason = "client_lost"
	// FailoverClientDraining: the client is shutting down and handed back
	// the work it had not started.
	FailoverClientDraining FailoverReason = "client_draining"
	// FailoverLeaderChange: the client died while no leader watched (its
	// registration was already gone when the new leader loaded its state),
	// so the new leader moved its work as it took over.
	FailoverLeaderChange FailoverReason = "leader_change"
	// FailoverClientStalled: the client is registered but has stopped
	// claiming its work (it left a fire unclaimed past its time and
	// claimed nothing for a while): the leader moved what it had not
	// started without waiting for its lease to end.
	FailoverClientStalled FailoverReason = "client_stalled"
)

// FailoverReasons lists every FailoverReason.
func FailoverReasons() []FailoverReason {
	return []FailoverReason{FailoverClientLost, FailoverClientDraining, FailoverLeaderChange, FailoverClientStalled}
}
