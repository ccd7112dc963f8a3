package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/realtime"
)

// MaxLongPoll is the longest ?wait a GET /api/projects/:id may ask for.
const MaxLongPoll = 60 * time.Second

// generatingRetryAfter is the Retry-After a poller gets while a pack is generating.
const generatingRetryAfter = "2"

// callerOf returns the pack caller of an authenticated REST request.
func callerOf(c echo.Context) pack.Caller { return callerFrom(c.Request().Context()) }

// decodeJSON reads a JSON request body of at most limit bytes into v.
func decodeJSON(c echo.Context, limit int64, v any) error {
	body := http.MaxBytesReader(c.Response(), c.Request().Body, limit)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return apperr.Errorf(apperr.ETOOLARGE, "the request body is larger than %d bytes", limit)
		case errors.Is(err, io.EOF):
			return apperr.Errorf(apperr.EINVALID, "the request body is empty; send a JSON object")
		case errors.As(err, &te) && te.Field != "":
			msg := fmt.Sprintf("expected %s, got %s", te.Type.Kind(), te.Value)
			return apperr.Invalid("Invalid input: "+te.Field+": "+msg, map[string]string{te.Field: msg})
		default:
			return apperr.Errorf(apperr.EINVALID, "the request body is not valid JSON")
		}
	}
	return nil
}

// handleProjectCreate is POST /api/projects: the project.create input as JSON; 201 with
// the snapshot and its Location.
func handleProjectCreate(svc *pack.Service, maxBody int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in pack.CreateInput
		if err := decodeJSON(c, maxBody, &in); err != nil {
			return err
		}
		snap, err := svc.Create(c.Request().Context(), callerOf(c), in)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Location", "/api/projects/"+snap.ID.String())
		c.Response().Header().Set("ETag", etag(snap.Version))
		return c.JSON(http.StatusCreated, snap)
	}
}

// uploadMemoryBytes is how much of an upload is kept in memory while it arrives; the rest
// goes to a temporary file, so a slow sender holds a file, not memory.
const uploadMemoryBytes = 1 << 20

// handleProjectSource is POST /api/projects/:id/source: the photo as multipart field
// "file". The route's middleware authenticated the caller before a byte of the body is
// read; the body is read only once the upload gate admitted it, within readTimeout.
func handleProjectSource(svc *pack.Service, maxUpload int64, gate *uploadGate, readTimeout time.Duration) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > uploadBodyLimit(maxUpload) {
			return apperr.Errorf(apperr.ETOOLARGE, "the photo is larger than %d MB", maxUpload>>20)
		}
		release, err := gate.acquire()
		if err != nil {
			return err
		}
		defer release()
		if readTimeout > 0 {
			_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(readTimeout))
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, uploadBodyLimit(maxUpload))
		var fh *multipart.FileHeader
		if err = req.ParseMultipartForm(uploadMemoryBytes); err == nil {
			_, fh, err = req.FormFile("file")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			var ne net.Error
			switch {
			case errors.As(err, &mbe):
				return apperr.Errorf(apperr.ETOOLARGE, "the photo is larger than %d MB", maxUpload>>20)
			case errors.As(err, &ne) && ne.Timeout():
				return apperr.Errorf(apperr.ETIMEOUT, "the photo did not arrive within %s", readTimeout)
			case errors.Is(err, http.ErrMissingFile):
				return apperr.Invalid("Invalid input: file: is required", map[string]string{"file": "is required"})
			default:
				return apperr.Errorf(apperr.EINVALID, "send the photo as multipart/form-data in the field \"file\"")
			}
		}
		if req.MultipartForm != nil {
			defer func() { _ = req.MultipartForm.RemoveAll() }()
		}
		if err := pack.CheckUploadSize(fh.Size, maxUpload); err != nil {
			return err
		}
		f, err := fh.Open()
		if err != nil {
			return fmt.Errorf("open upload: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
		if err != nil {
			return fmt.Errorf("read upload: %w", err)
		}
		snap, err := svc.Upload(req.Context(), callerOf(c), c.Param("id"), data)
		if err != nil {
			return err
		}
		c.Response().Header().Set("ETag", etag(snap.Version))
		return c.JSON(http.StatusOK, snap)
	}
}

// handleProjectPack is POST /api/projects/:id/pack: generate the complete pack, honouring
// the Idempotency-Key header; 202 with the jobs.
func handleProjectPack(svc *pack.Service, lim *limits) echo.HandlerFunc {
	return func(c echo.Context) error {
		in := pack.PackInput{ProjectID: c.Param("id")}
		if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
			in.IdempotencyKey = &k
		}
		if err := lim.pack(c.Request().Context(), callerOf(c), in); err != nil {
			return err
		}
		jobs, err := svc.GeneratePack(c.Request().Context(), callerOf(c), in)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Location", "/api/projects/"+in.ProjectID)
		return c.JSON(http.StatusAccepted, jobs)
	}
}

// handleProjectGet is GET /api/projects/:id for clients that poll: the snapshot with
// ETag "<version>"; If-None-Match with the current version answers 304; ?wait=25s holds
// the request until the version differs from If-None-Match's (or, without it, from the
// version when the request arrived) or the wait ends; Retry-After while generating.
func handleProjectGet(svc *pack.Service, waitFor waitFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		caller := callerOf(c)
		pid, err := pack.ParseID(c.Param("id"))
		if err != nil {
			return err
		}
		wait, err := parseWait(c.QueryParam("wait"))
		if err != nil {
			return err
		}
		seen, hasSeen := parseETag(c.Request().Header.Get("If-None-Match"))
		snap, err := svc.Get(ctx, caller, pid.String())
		if err != nil {
			return err
		}
		if wait > 0 {
			if !hasSeen {
				seen, hasSeen = snap.Version, true
			}
			if snap, err = waitFor(ctx, caller, snap, seen, wait); err != nil {
				return err
			}
		}
		h := c.Response().Header()
		h.Set("ETag", etag(snap.Version))
		h.Set("Cache-Control", "private, no-cache")
		if snap.Status == pack.StatusGenerating {
			h.Set("Retry-After", generatingRetryAfter)
		}
		if hasSeen && seen == snap.Version && c.Request().Header.Get("If-None-Match") != "" {
			return c.NoContent(http.StatusNotModified)
		}
		return c.JSON(http.StatusOK, snap)
	}
}

// waitFunc holds a long-poll until the project's version differs from seen or wait
// passes, and returns the latest snapshot.
type waitFunc func(ctx context.Context, caller pack.Caller, snap pack.Snapshot, seen int64, wait time.Duration) (pack.Snapshot, error)

// longPoll returns the long-poll wait: on the realtime broker's project subscription when
// there is one (it sees changes made by every instance), else on the pack service's
// in-memory change signal (changes made through this instance).
func longPoll(svc *pack.Service, rt *realtime.Broker) waitFunc {
	return func(ctx context.Context, caller pack.Caller, snap pack.Snapshot, seen int64, wait time.Duration) (pack.Snapshot, error) {
		if snap.Version != seen {
			return snap, nil
		}
		timer := time.NewTimer(wait)
		defer timer.Stop()
		if rt != nil {
			sub := rt.SubscribeProject(snap.ID)
			defer sub.Close()
		loop:
			for {
				select {
				case <-sub.C():
					s, ok, err := sub.Next()
					if err != nil || (ok && s.Version != seen) {
						break loop
					}
				case <-timer.C:
					break loop
				case <-ctx.Done():
					return snap, nil
				}
			}
			return svc.Get(ctx, caller, snap.ID.String())
		}
		// Listen before reading, so a change between the two is never missed.
		for {
			changed := svc.Changed(snap.ID)
			next, err := svc.Get(ctx, caller, snap.ID.String())
			if err != nil || next.Version != seen {
				return next, err
			}
			select {
			case <-changed:
			case <-timer.C:
				return next, nil
			case <-ctx.Done():
				return next, nil
			}
		}
	}
}

// parseWait reads ?wait: a duration ("25s") or whole seconds ("25"), at most MaxLongPoll.
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.Atoi(s)
		if nerr != nil {
			return 0, apperr.Invalid("Invalid input: wait: must be a duration such as 25s",
				map[string]string{"wait": "must be a duration such as 25s"})
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 || d > MaxLongPoll {
		msg := fmt.Sprintf("must be between 0s and %s", MaxLongPoll)
		return 0, apperr.Invalid("Invalid input: wait: "+msg, map[string]string{"wait": msg})
	}
	return d, nil
}

// etag formats a version as a strong entity tag.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseETag reads the version out of If-None-Match ("7", W/"7", or a list whose first
// entry is one).
func parseETag(h string) (int64, bool) {
	h = strings.TrimSpace(h)
	if i := strings.IndexByte(h, ','); i >= 0 {
		h = strings.TrimSpace(h[:i])
	}
	h = strings.TrimPrefix(h, "W/")
	h = strings.Trim(h, `"`)
	v, err := strconv.ParseInt(h, 10, 64)
	return v, err == nil
}

// handlePackZip is GET /api/projects/:id/pack.zip: the pack streamed as a zip. It takes
// a bearer token, or the signature of the snapshot's packUrl (so a plain link works).
func handlePackZip(svc *pack.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		pk, err := svc.LoadPack(c.Request().Context(), callerOf(c), c.Param("id"))
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "application/zip")
		h.Set("Content-Disposition", `attachment; filename="`+pk.FileName()+`"`)
		h.Set("Cache-Control", "private, no-store")
		c.Response().WriteHeader(http.StatusOK)
		if err := svc.WriteZip(c.Request().Context(), pk, c.Response()); err != nil {
			// The status is sent; all that is left is to cut the download short.
			return fmt.Errorf("stream pack.zip: %w", err)
		}
		return nil
	}
}
