package pack

import (
	"github.com/google/uuid"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/queue"
)

// Project statuses.
const (
	StatusDraft      = "draft"      // no photo yet
	StatusReady      = "ready"      // a photo, nothing generating and nothing made
	StatusGenerating = "generating" // some image's latest job is pending or processing
	StatusCompleted  = "completed"  // every image's latest job completed
	StatusPartial    = "partial"    // some images failed, others were made
	StatusFailed     = "failed"     // every image that was tried failed
)

// Job statuses on the wire: the queue's, as the job_queue table spells them.
const (
	JobPending    = string(queue.StatusPending)
	JobProcessing = string(queue.StatusProcessing)
	JobCompleted  = string(queue.StatusCompleted)
	JobFailed     = string(queue.StatusFailed)
	JobCancelled  = string(queue.StatusCancelled)
)

// aggregate computes a project's status and overall progress (0–100) from whether it has
// a photo and the latest job of each image kind.
//
// A finished job (completed, failed, cancelled) counts as 100 % done, a pending one as 0 %
// and a running one as its reported progress; the overall progress is their mean, so a
// pack of five shows 20 % per finished image.
func aggregate(hasSource bool, latest []db.JobQueue) (status string, progress int) {
	if !hasSource {
		return StatusDraft, 0
	}
	if len(latest) == 0 {
		return StatusReady, 0
	}
	var active, completed, failed, sum int
	for _, j := range latest {
		switch j.Status {
		case JobPending:
			active++
		case JobProcessing:
			active++
			sum += int(min(max(j.Progress, 0), 99))
		case JobCompleted:
			completed++
			sum += 100
		case JobFailed:
			failed++
			sum += 100
		default: // cancelled
			sum += 100
		}
	}
	progress = sum / len(latest)
	switch {
	case active > 0:
		return StatusGenerating, min(progress, 99)
	case failed > 0 && completed > 0:
		return StatusPartial, 100
	case failed > 0:
		return StatusFailed, 100
	case completed > 0:
		return StatusCompleted, 100
	default: // everything cancelled
		return StatusReady, 0
	}
}

// snapshotParts is what a snapshot is built from, read in one transaction.
type snapshotParts struct {
	project db.Project
	source  *db.SourceImage
	latest  []db.JobQueue
	images  []db.GeneratedImage
}

// newestPerType returns the newest of images per type. Superseding keeps one current
// image per type but custom; a tie goes to the later in the list.
func newestPerType(images []db.GeneratedImage) map[string]db.GeneratedImage {
	out := map[string]db.GeneratedImage{}
	for _, g := range images {
		if old, ok := out[g.Type]; !ok || !g.CreatedAt.Before(old.CreatedAt) {
			out[g.Type] = g
		}
	}
	return out
}

// build assembles the snapshot. url signs a storage key; packURL signs the pack download.
func (p snapshotParts) build(url func(string) string, packURL func(uuid.UUID) string) Snapshot {
	pr := p.project
	s := Snapshot{
		ID: pr.ID, Name: pr.Name, Marketplace: pr.Marketplace, Status: pr.Status, Version: pr.Version,
		Title: pr.Title, Features: pr.Features, Dimensions: pr.Dimensions, Progress: int(pr.Progress),
		CostUSD: pr.CostUsd, CreatedAt: pr.CreatedAt, UpdatedAt: pr.UpdatedAt, UserID: pr.UserID,
		Images: []ImageSlot{},
	}
	if s.Features == nil {
		s.Features = []string{}
	}
	if p.source != nil {
		s.Source = &SourceImage{URL: url(p.source.StorageKey), Width: int(p.source.Width),
			Height: int(p.source.Height), Bytes: p.source.Bytes, MIME: p.source.Mime}
	}
	jobs := map[string]db.JobQueue{}
	for _, j := range p.latest {
		if t, ok := TypeOfKind(j.Kind); ok {
			jobs[t] = j
		}
	}
	// Custom images are never superseded, so the custom slot shows the latest of them;
	// image.list returns them all.
	imgs := newestPerType(p.images)
	types := PackTypes(pr.Marketplace)
	if _, ok := jobs[TypeCustom]; ok {
		types = append(types[:len(types):len(types)], TypeCustom)
	} else if _, ok := imgs[TypeCustom]; ok {
		types = append(types[:len(types):len(types)], TypeCustom)
	}
	hasImage := false
	for _, t := range types {
		slot := ImageSlot{Type: t, Status: SlotNone}
		if g, ok := imgs[t]; ok {
			gi := imageFromRow(g, url)
			slot.Image = &gi
			slot.Status, slot.Progress = JobCompleted, 100
			hasImage = true
		}
		if j, ok := jobs[t]; ok {
			id := j.ID
			slot.JobID = &id
			slot.Status, slot.Stage = j.Status, j.ProgressStage
			switch j.Status {
			case JobCompleted:
				slot.Progress = 100
			case JobProcessing:
				slot.Progress = int(j.Progress)
			case JobFailed:
				slot.Progress = 0
				if j.LastError.Valid {
					// Snapshots go to every subscriber of the project alike.
					msg := PublicError(j.LastError.String)
					slot.Error = &msg
				}
			default:
				slot.Progress = 0
			}
		}
		s.Images = append(s.Images, slot)
	}
	if hasImage {
		u := packURL(pr.ID)
		s.PackURL = &u
	}
	return s
}
