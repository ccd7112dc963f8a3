package notifier

// SwallowHeartbeats makes the notifier ignore its own heartbeats while on is true, as
// if its connection had stopped delivering.
func (n *Notifier) SwallowHeartbeats(on bool) { n.swallowBeats.Store(on) }
