// Package lifecycle is the one way packshot's long-running parts start and stop.
//
// Every such part (the notifier, the realtime publisher and hub, the queue's dispatcher,
// the blob collector, the HTTP server) is a Component: Start returns once it runs, Stop
// returns once it has stopped or its context ended. A Group starts its components in the
// order they were added and stops them in the reverse order, so a part never outlives
// what it stands on: the HTTP server stops before the queue it enqueues on, the queue
// before the notifier it rings, the notifier before the database closes.
package lifecycle
