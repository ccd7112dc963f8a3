package api_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/pack"
)

// identity is one kind of caller in the authorization matrix.
type identity struct {
	name string
	tok  string
}

// identities returns the callers: the owner, another user, no token, an expired token,
// forged tokens (alg none, wrong secret), and the service role.
func identities(t *testing.T) []identity {
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "owner", "role": "authenticated", "exp": time.Now().Add(-time.Hour).Unix(),
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	none := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		enc([]byte(fmt.Sprintf(`{"sub":"owner","role":"service_role","exp":%d}`, time.Now().Add(time.Hour).Unix()))) + "."
	wrong, err := auth.Issue("some-other-secret-0123456789abcdef", "owner", auth.RoleService, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return []identity{
		{"owner", token(t, "owner", auth.RoleAuthenticated)},
		{"other", token(t, "mallory", auth.RoleAuthenticated)},
		{"none", ""},
		{"expired", expired},
		{"alg-none", none},
		{"wrong-secret", wrong},
		{"service", token(t, "ops", auth.RoleService)},
	}
}

// want is the expected HTTP status per identity; other and service differ per route.
func want(other, service int) map[string]int {
	return map[string]int{"owner": 200, "other": other, "none": 401, "expired": 401, "alg-none": 401,
		"wrong-secret": 401, "service": service}
}

// class folds success statuses together, so a 201 or 202 counts as 200.
func class(status int) int {
	if status >= 200 && status < 300 {
		return 200
	}
	return status
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noWorker: true})
	ids := identities(t)
	owner := ids[0].tok
	p := readyProject(t, b, owner)
	pid := p.ID.String()
	photo := productPhoto(t, 800, 800)

	// One pending job to read, cancel and retry (the dispatcher is not running yet).
	var gen pack.Jobs
	b.mutate(t, owner, "image.generate", map[string]any{"projectId": pid, "type": "main"}).decode(t, &gen)
	jid := gen.Jobs[0].ID.String()

	// fresh makes a throwaway project of the owner's for destructive calls.
	fresh := func() string {
		return createProject(t, b, owner, map[string]any{"name": "throwaway"}).ID.String()
	}
	type call struct {
		name string
		do   func(tok string) int
		want map[string]int
	}
	calls := []call{
		{"project.create", func(tok string) int {
			return b.mutate(t, tok, "project.create", map[string]any{"name": "x"}).status
		}, want(200, 200)},
		{"project.get", func(tok string) int {
			return b.query(t, tok, "project.get", map[string]any{"id": pid}).status
		}, want(404, 200)},
		{"project.list", func(tok string) int {
			r := b.query(t, tok, "project.list", map[string]any{})
			if r.Error == nil && strings.Contains(string(r.Result.Data), pid) {
				return 600 // the list holds the owner's project: right for the owner and the operator only
			}
			return r.status
		}, map[string]int{"owner": 600, "other": 200, "none": 401, "expired": 401, "alg-none": 401, "wrong-secret": 401, "service": 600}},
		{"project.update", func(tok string) int {
			return b.mutate(t, tok, "project.update", map[string]any{"id": pid, "title": "Renamed"}).status
		}, want(404, 200)},
		{"project.delete", func(tok string) int {
			return b.mutate(t, tok, "project.delete", map[string]any{"id": fresh()}).status
		}, want(404, 200)},
		{"image.upload", func(tok string) int {
			return b.upload(t, tok, fresh(), photo).status
		}, want(404, 200)},
		{"image.generate", func(tok string) int {
			return b.mutate(t, tok, "image.generate", map[string]any{"projectId": pid, "type": "main"}).status
		}, want(404, 200)},
		{"image.generateCompletePack", func(tok string) int {
			return b.mutate(t, tok, "image.generateCompletePack", map[string]any{"projectId": pid}).status
		}, want(404, 200)},
		{"image.list", func(tok string) int {
			return b.query(t, tok, "image.list", map[string]any{"projectId": pid}).status
		}, want(404, 200)},
		{"job.get", func(tok string) int {
			return b.query(t, tok, "job.get", map[string]any{"id": jid}).status
		}, want(404, 200)},
		{"job.list", func(tok string) int {
			return b.query(t, tok, "job.list", map[string]any{"projectId": pid}).status
		}, want(404, 200)},
		// Cancel then retry, so the next identity finds the job pending again.
		{"job.cancel+job.retry", func(tok string) int {
			if st := b.mutate(t, tok, "job.cancel", map[string]any{"id": jid}).status; st != 200 {
				return st
			}
			return b.mutate(t, tok, "job.retry", map[string]any{"id": jid}).status
		}, want(404, 200)},
		{"admin.jobStats", func(tok string) int {
			return b.query(t, tok, "admin.jobStats", nil).status
		}, map[string]int{"owner": 403, "other": 403, "none": 401, "expired": 401, "alg-none": 401, "wrong-secret": 401, "service": 200}},
		{"admin.failedJobs", func(tok string) int {
			return b.query(t, tok, "admin.failedJobs", map[string]any{}).status
		}, map[string]int{"owner": 403, "other": 403, "none": 401, "expired": 401, "alg-none": 401, "wrong-secret": 401, "service": 200}},
		{"POST /api/projects", func(tok string) int {
			resp, _ := b.rest(t, tok, http.MethodPost, "/api/projects", strings.NewReader(`{"name":"rest"}`), nil)
			return resp.StatusCode
		}, want(200, 200)},
		{"GET /api/projects/:id", func(tok string) int {
			resp, _ := b.rest(t, tok, http.MethodGet, "/api/projects/"+pid, nil, nil)
			return resp.StatusCode
		}, want(404, 200)},
		{"POST /api/projects/:id/source", func(tok string) int {
			body, ct := multipartBody(t, nil, photo)
			resp, _ := b.rest(t, tok, http.MethodPost, "/api/projects/"+fresh()+"/source", body, http.Header{"Content-Type": {ct}})
			return resp.StatusCode
		}, want(404, 200)},
		{"POST /api/projects/:id/pack", func(tok string) int {
			resp, _ := b.rest(t, tok, http.MethodPost, "/api/projects/"+pid+"/pack", nil, nil)
			return resp.StatusCode
		}, want(404, 200)},
	}
	for _, c := range calls {
		for _, id := range ids {
			if got := class(c.do(id.tok)); got != c.want[id.name] {
				t.Errorf("%s as %s: status %d; want %d", c.name, id.name, got, c.want[id.name])
			}
		}
	}

	// Downloads need an image: cancel the pack's other jobs, run the main one.
	for _, j := range listJobs(t, b, owner, pid) {
		if j.Type != "main" && (j.Status == "pending" || j.Status == "processing") {
			b.mutate(t, owner, "job.cancel", map[string]any{"id": j.ID}).decode(t, new(pack.Job))
		}
	}
	b.start()
	done := b.waitSettled(t, owner, pid)
	main := slot(t, done, "main")
	if main.Image == nil {
		t.Fatalf("no main image after the run: %+v", main)
	}
	for _, id := range ids {
		resp, _ := b.rest(t, id.tok, http.MethodGet, "/api/projects/"+pid+"/pack.zip", nil, nil)
		if got, w := class(resp.StatusCode), want(404, 200)[id.name]; got != w {
			t.Errorf("GET pack.zip as %s: status %d; want %d", id.name, got, w)
		}
	}
	// Signed links work without a token; altered or foreign ones do not.
	for link, wantStatus := range map[string]int{
		main.Image.URL: 200,
		*done.PackURL:  200,
		main.Image.URL[:len(main.Image.URL)-2] + "xx":            403,
		strings.Replace(*done.PackURL, pid, fresh(), 1):          401,
		"/files/" + strings.Repeat("a", 64) + ".jpg?exp=1&sig=x": 403,
	} {
		resp, _ := b.rest(t, "", http.MethodGet, link, nil, nil)
		if resp.StatusCode != wantStatus {
			t.Errorf("GET %s without a token: status %d; want %d", link, resp.StatusCode, wantStatus)
		}
	}
	// The dev-token endpoint is public in dev mode (and absent otherwise: see serve).
	resp, _ := b.rest(t, "", http.MethodPost, "/api/dev/token", bytes.NewReader([]byte(`{"user":"eve"}`)), http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /api/dev/token: %d; want 200", resp.StatusCode)
	}
}

// listJobs returns a project's jobs through job.list.
func listJobs(t *testing.T, b *testBundle, tok, pid string) []pack.Job {
	t.Helper()
	var jobs []pack.Job
	b.query(t, tok, "job.list", map[string]any{"projectId": pid}).decode(t, &jobs)
	return jobs
}
