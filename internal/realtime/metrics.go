package realtime

import "time"

// Metrics receives the package's measurements, for a metrics system to export. Every
// field is optional. The functions are called on hot paths: they must be fast and safe
// for concurrent use.
type Metrics struct {
	// SubscribersFunc is told the number of open subscriptions whenever it changes.
	SubscribersFunc func(n int)
	// DoorbellsSentFunc counts doorbells (and progress messages) this instance sent, per
	// flush.
	DoorbellsSentFunc func(n int)
	// DoorbellsReceivedFunc counts doorbells (and progress messages) heard from the
	// notifier, per notification.
	DoorbellsReceivedFunc func(n int)
	// SnapshotLoadsFunc counts snapshot loads, each serving every subscriber of a project.
	SnapshotLoadsFunc func()
	// UserLoadsFunc counts loads of a user's recent projects, each serving every list
	// subscriber of the user.
	UserLoadsFunc func()
	// JobsLoadsFunc counts loads of the job feed, each serving every job subscriber.
	JobsLoadsFunc func()
	// LoadsDroppedFunc counts queued loads (of a project, a user's projects or the job
	// feed) dropped because every subscriber that wanted them had left.
	LoadsDroppedFunc func()
	// FanoutLagFunc observes the time from a doorbell's publication to its snapshot being
	// offered to every subscriber of the project.
	FanoutLagFunc func(d time.Duration)
}

func (m *Metrics) subscribers(n int) {
	if m != nil && m.SubscribersFunc != nil {
		m.SubscribersFunc(n)
	}
}

func (m *Metrics) sent(n int) {
	if m != nil && m.DoorbellsSentFunc != nil {
		m.DoorbellsSentFunc(n)
	}
}

func (m *Metrics) received(n int) {
	if m != nil && m.DoorbellsReceivedFunc != nil {
		m.DoorbellsReceivedFunc(n)
	}
}

func (m *Metrics) load() {
	if m != nil && m.SnapshotLoadsFunc != nil {
		m.SnapshotLoadsFunc()
	}
}

func (m *Metrics) userLoad() {
	if m != nil && m.UserLoadsFunc != nil {
		m.UserLoadsFunc()
	}
}

func (m *Metrics) jobsLoad() {
	if m != nil && m.JobsLoadsFunc != nil {
		m.JobsLoadsFunc()
	}
}

func (m *Metrics) loadDropped() {
	if m != nil && m.LoadsDroppedFunc != nil {
		m.LoadsDroppedFunc()
	}
}

func (m *Metrics) fanoutLag(since time.Time) {
	if m != nil && m.FanoutLagFunc != nil && !since.IsZero() {
		m.FanoutLagFunc(time.Since(since))
	}
}
