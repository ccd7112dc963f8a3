// Package app is packshot's composition root: the one place that builds the process from
// its configuration, only through constructors, in the order the data flows:
//
//	config → database → notifier → realtime publisher
//	       → pack status projection and job handlers → queue → pack service
//	       → realtime hub → HTTP API
//
// `packshot serve`, `packshot worker` and the benchmarks call New with Options saying
// which parts run; nothing is wired later. Every long-running part is a
// lifecycle.Component: Start starts them in that order and Stop stops them in the
// reverse order, so the HTTP server drains before the queue stops, the queue before the
// notifier, and the notifier before the database closes.
package app
