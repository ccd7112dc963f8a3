package realtime

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Channel is realtime's NOTIFY channel (the notifier's topic). Its payloads are JSON
// arrays of messages (see message); a payload stays under maxPayload bytes.
const Channel = "packshot_realtime"

// maxPayload is the largest NOTIFY payload the publisher sends, a little under what
// PostgreSQL accepts (notifier.MaxPayload).
const maxPayload = 7900

// Change says that a project changed: its new version, and whose project it is (so list
// subscribers of that user hear of it too). It is pack.Change, the one "project changed"
// signal, on its way to the browsers; a NOTIFY carrying it is a doorbell.
type Change struct {
	ProjectID uuid.UUID
	UserID    string
	Version   int64
}

// Progress is a job's in-memory progress (0–100) and stage, reported by its handler far
// more often than it is persisted. It reaches subscribers as an overlay on the project's
// last snapshot.
type Progress struct {
	ProjectID uuid.UUID
	UserID    string
	JobID     uuid.UUID
	Progress  int
	Stage     string
}

// Message kinds on the wire.
const (
	kindDoorbell = "d"
	kindProgress = "p"
)

// message is one element of a NOTIFY payload. Short keys keep a batch of doorbells in one
// payload.
type message struct {
	Kind      string    `json:"k"`
	ProjectID uuid.UUID `json:"p,omitzero"`
	UserID    string    `json:"u,omitempty"`
	Version   int64     `json:"v,omitempty"`
	JobID     uuid.UUID `json:"j,omitzero"`
	Progress  int       `json:"n,omitempty"`
	Stage     string    `json:"s,omitempty"`
	// SentAt is when the publisher sent it (Unix microseconds), for the fan-out lag
	// metric.
	SentAt int64 `json:"t,omitempty"`
}

func (m message) change() Change {
	return Change{ProjectID: m.ProjectID, UserID: m.UserID, Version: m.Version}
}

func (m message) progress() Progress {
	return Progress{ProjectID: m.ProjectID, UserID: m.UserID, JobID: m.JobID, Progress: m.Progress, Stage: m.Stage}
}

func (m message) sentAt() time.Time {
	if m.SentAt == 0 {
		return time.Time{}
	}
	return time.UnixMicro(m.SentAt)
}

// encodePayloads packs msgs into as few JSON-array payloads as fit under limit bytes each.
func encodePayloads(msgs []message, limit int) ([]string, error) {
	var out []string
	buf := make([]byte, 0, 1024)
	buf = append(buf, '[')
	for _, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encode message: %w", err)
		}
		if len(b)+2 > limit {
			return nil, fmt.Errorf("message of %d bytes exceeds the payload limit", len(b))
		}
		if len(buf)+len(b)+2 > limit {
			out = append(out, string(append(buf, ']')))
			buf = append(buf[:0], '[')
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
	}
	if len(buf) > 1 {
		out = append(out, string(append(buf, ']')))
	}
	return out, nil
}

// decodePayload reads one NOTIFY payload.
func decodePayload(payload string) ([]message, error) {
	var msgs []message
	if err := json.Unmarshal([]byte(payload), &msgs); err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	return msgs, nil
}
