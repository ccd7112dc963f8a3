package pack

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
)

// Snapshot is a project as clients see it (ProjectSnapshot in the API contract): the
// result of project.get, project.create, image.upload and every project.onUpdate event.
type Snapshot struct {
	ID          uuid.UUID    `json:"id"`
	Name        string       `json:"name"`
	Marketplace string       `json:"marketplace"`
	Status      string       `json:"status"`
	Version     int64        `json:"version"`
	Title       string       `json:"title"`
	Features    []string     `json:"features"`
	Dimensions  string       `json:"dimensions"`
	Progress    int          `json:"progress"`
	CostUSD     float64      `json:"costUsd"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	Source      *SourceImage `json:"source"`
	Images      []ImageSlot  `json:"images"`
	// PackURL is a signed link to pack.zip, set once the project has images to download.
	PackURL *string `json:"packUrl"`
	// UserID is the owner; it is not sent to clients (realtime routes events with it).
	UserID string `json:"-"`
}

// SourceImage is a project's uploaded photo.
type SourceImage struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int64  `json:"bytes"`
	MIME   string `json:"mime"`
}

// Slot statuses beyond the job statuses: "none" means no job and no image yet.
const SlotNone = "none"

// ImageSlot is one image of the pack: the state of the latest job making it and the
// current image, if any.
type ImageSlot struct {
	Type     string          `json:"type"`
	Status   string          `json:"status"`
	Progress int             `json:"progress"`
	Stage    string          `json:"stage"`
	JobID    *uuid.UUID      `json:"jobId"`
	Error    *string         `json:"error"`
	Image    *GeneratedImage `json:"image"`
}

// GeneratedImage is one image made for a project.
type GeneratedImage struct {
	ID         uuid.UUID  `json:"id"`
	Type       string     `json:"type"`
	URL        string     `json:"url"`
	Width      int        `json:"width"`
	Height     int        `json:"height"`
	Bytes      int64      `json:"bytes"`
	Provider   string     `json:"provider"`
	Prompt     string     `json:"prompt"`
	Compliance Compliance `json:"compliance"`
	CostUSD    float64    `json:"costUsd"`
	CreatedAt  time.Time  `json:"createdAt"`
	// StorageKey locates the file; it is not sent to clients.
	StorageKey string `json:"-"`
}

// Compliance is the result of an image's marketplace checks, stored with it.
type Compliance struct {
	OK         bool        `json:"ok"`
	Violations []Violation `json:"violations"`
}

// Violation is one rule an image breaks.
type Violation struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Severity is "error" (the marketplace rejects the image) or "warning".
	Severity string `json:"severity,omitempty"`
}

// Summary is a project in the project list (ProjectSummary in the API contract).
type Summary struct {
	ID           uuid.UUID `json:"id"`
	Name         string    `json:"name"`
	Marketplace  string    `json:"marketplace"`
	Status       string    `json:"status"`
	Progress     int       `json:"progress"`
	Version      int64     `json:"version"`
	ThumbnailURL *string   `json:"thumbnailUrl"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	// UserID is the owner; it is not sent to clients.
	UserID string `json:"-"`
}

// Job is a job as clients see it.
type Job struct {
	ID          uuid.UUID  `json:"id"`
	Kind        string     `json:"kind"`
	Type        string     `json:"type"`
	ProjectID   *uuid.UUID `json:"projectId"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	MaxAttempts int        `json:"maxAttempts"`
	Progress    int        `json:"progress"`
	Stage       string     `json:"stage"`
	LastError   *string    `json:"lastError"`
	RunAt       time.Time  `json:"runAt"`
	CreatedAt   time.Time  `json:"createdAt"`
	StartedAt   *time.Time `json:"startedAt"`
	CompletedAt *time.Time `json:"completedAt"`
	// UserID is the owner; it is not sent to clients.
	UserID string `json:"-"`
}

// jobFromRow converts a job_queue row as c may see it.
func jobFromRow(c Caller, r db.JobQueue) Job {
	j := Job{
		ID: r.ID, Kind: r.Kind, Status: r.Status, Attempts: int(r.Attempts), MaxAttempts: int(r.MaxAttempts),
		Progress: int(r.Progress), Stage: r.ProgressStage, RunAt: r.RunAt, CreatedAt: r.CreatedAt,
		StartedAt: r.StartedAt, CompletedAt: r.CompletedAt, UserID: r.UserID,
	}
	j.Type, _ = TypeOfKind(r.Kind)
	if r.ProjectID.Valid {
		id := r.ProjectID.UUID
		j.ProjectID = &id
	}
	if r.LastError.Valid {
		s := publicErrorFor(c, r.LastError.String)
		j.LastError = &s
	}
	return j
}

// imageFromRow converts a generated_images row; url signs its storage key.
func imageFromRow(r db.GeneratedImage, url func(key string) string) GeneratedImage {
	g := GeneratedImage{
		ID: r.ID, Type: r.Type, URL: url(r.StorageKey), Width: int(r.Width), Height: int(r.Height),
		Bytes: r.Bytes, Provider: r.Provider, Prompt: r.Prompt, CostUSD: r.CostUsd, CreatedAt: r.CreatedAt,
		StorageKey: r.StorageKey,
	}
	if err := json.Unmarshal(r.Compliance, &g.Compliance); err != nil {
		g.Compliance = Compliance{OK: false, Violations: []Violation{{Code: "unreadable", Message: "the stored check result is unreadable"}}}
	}
	if g.Compliance.Violations == nil {
		g.Compliance.Violations = []Violation{}
	}
	return g
}

// WithProgress returns a copy of s with the jobs' in-memory progress on the slots still
// running them, and the project's progress raised to match (each slot weighs the same,
// as in the status aggregate). Progress never goes backwards, and stays below 100 until
// the job's completion is committed.
func (s Snapshot) WithProgress(progress []JobProgress) Snapshot {
	if len(progress) == 0 {
		return s
	}
	byJob := make(map[uuid.UUID]JobProgress, len(progress))
	for _, p := range progress {
		byJob[p.JobID] = p
	}
	images := make([]ImageSlot, len(s.Images))
	copy(images, s.Images)
	jobs, gained := 0, 0
	for i := range images {
		slot := &images[i]
		if slot.JobID == nil {
			continue
		}
		jobs++
		p, ok := byJob[*slot.JobID]
		if !ok || slot.Status != JobProcessing || p.Percent <= slot.Progress {
			continue
		}
		next := min(p.Percent, 99)
		gained += next - slot.Progress
		slot.Progress, slot.Stage = next, p.Stage
	}
	s.Images = images
	if jobs > 0 && gained > 0 {
		s.Progress = min(s.Progress+gained/jobs, 99)
	}
	return s
}
