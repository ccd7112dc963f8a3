//go:build faults

package faults

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/packshot/packshot/internal/auth"
	"github.com/packshot/packshot/internal/storage"
)

// peakLimit is the generous bound on the serve process's peak resident memory while it
// is attacked: every hostile input must be refused without being held in memory.
const peakLimit = 400 << 20

// TestHostileInput is scenario 6: forged, expired and unsigned tokens, a WebSocket from a
// foreign Origin, tampered and expired file links, a decompression bomb, a truncated
// JPEG, a 200 MB body and deeply nested JSON, against a running serve process. Each gets a
// clean 4xx in its protocol's shape (a tRPC error envelope, problem JSON, a WebSocket
// error frame or a refused upgrade), the server keeps serving, and its memory stays
// bounded.
func TestHostileInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := newScenario(t, map[string]string{"PACKSHOT_WORKERS": "2"})
	srv := s.serve(ctx, "serve", nil)
	rss0, peak0 := srv.memory()
	t.Logf("serve memory at start: rss %d MiB, peak %d MiB", rss0>>20, peak0>>20)

	good := api{base: srv.baseURL(), tok: token(t, "mallory")}
	var proj snapshot
	if err := good.call(ctx, true, "project.create", map[string]any{"name": "Target"}, &proj); err != nil {
		t.Fatalf("project.create: %v", err)
	}
	var withPhoto snapshot
	if err := good.upload(ctx, proj.ID, productPhoto(t, 600, 600), &withPhoto); err != nil || withPhoto.Source == nil {
		t.Fatalf("image.upload: %v (source %v)", err, withPhoto.Source)
	}

	t.Run("tokens", func(t *testing.T) {
		forged, _ := auth.Issue("not-the-server-secret-at-all-0123456789", "mallory", "authenticated", time.Hour)
		for name, tok := range map[string]string{
			"forged":    forged,
			"expired":   signedToken(t, jwt.SigningMethodHS256, []byte(jwtSecret), time.Now().Add(-2*time.Hour)),
			"alg none":  signedToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, time.Now().Add(time.Hour)),
			"alg HS512": signedToken(t, jwt.SigningMethodHS512, []byte(jwtSecret), time.Now().Add(time.Hour)),
			"garbage":   "eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtc2lnbmF0dXJl",
			"missing":   "",
		} {
			a := api{base: srv.baseURL(), tok: tok}
			err := a.call(ctx, false, "project.list", map[string]any{}, nil)
			wantTRPCError(t, name+" token, project.list", err, http.StatusUnauthorized, "UNAUTHORIZED")
			resp := rawRequest(ctx, t, http.MethodGet, srv.baseURL()+"/api/projects/"+proj.ID, tok, "", nil)
			wantProblem(t, name+" token, GET /api/projects/:id", resp, http.StatusUnauthorized)
			wantWSRefused(ctx, t, name+" token, WebSocket", srv.baseURL(), tok, proj.ID)
		}
	})

	t.Run("foreign origin", func(t *testing.T) {
		h := http.Header{"Origin": {"https://evil.example"}}
		c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.baseURL(), "http")+"/ws?connectionParams=1", &websocket.DialOptions{HTTPHeader: h})
		if err == nil {
			c.CloseNow()
			t.Fatal("a WebSocket from https://evil.example was accepted")
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("WebSocket from a foreign origin: %v (response %v); want 403", err, resp)
		}
	})

	t.Run("file links", func(t *testing.T) {
		link := srv.baseURL() + withPhoto.Source.URL
		resp := rawRequest(ctx, t, http.MethodGet, link, "", "", nil)
		if resp.status != http.StatusOK || resp.header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("the genuine link: %d %s; want 200 image/jpeg", resp.status, resp.header.Get("Content-Type"))
		}
		u, _ := url.Parse(link)
		key := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
		q := u.Query()
		sig := []byte(q.Get("sig"))
		sig[3] ^= 1
		tamperedSig := u.Path + "?exp=" + q.Get("exp") + "&sig=" + string(sig)
		laterExp := u.Path + "?exp=" + q.Get("exp") + "0&sig=" + q.Get("sig")
		otherKey := strings.Replace(u.Path, key, strings.Repeat("0", len(key)), 1) + "?" + u.RawQuery
		signer, err := storage.NewSigner(jwtSecret)
		if err != nil {
			t.Fatal(err)
		}
		expired := signer.URL(key, time.Now().Add(-time.Minute))
		for name, path := range map[string]string{
			"tampered signature": tamperedSig, "extended expiry": laterExp,
			"another key": otherKey, "no signature": u.Path, "expired": expired,
		} {
			resp := rawRequest(ctx, t, http.MethodGet, srv.baseURL()+path, "", "", nil)
			wantProblem(t, name+" link", resp, http.StatusForbidden)
			if name == "expired" && !strings.Contains(string(resp.body), "expired") {
				t.Errorf("expired link: %s; want it to say the link expired", resp.body)
			}
		}
	})

	t.Run("bad images", func(t *testing.T) {
		photo := productPhoto(t, 800, 800)
		for name, data := range map[string][]byte{
			"decompression bomb": bombPNG(t),
			"truncated JPEG":     photo[:len(photo)*3/5],
			"not an image":       []byte("<svg xmlns='http://www.w3.org/2000/svg'></svg>"),
		} {
			err := good.upload(ctx, proj.ID, data, nil)
			wantTRPCError(t, name+" through image.upload", err, 0, "")
			body, ct := multipartFile(data)
			resp := rawRequest(ctx, t, http.MethodPost, srv.baseURL()+"/api/projects/"+proj.ID+"/source", good.tok, ct, body)
			wantProblem(t, name+" through POST /api/projects/:id/source", resp, 0)
		}
	})

	t.Run("200 MB bodies", func(t *testing.T) {
		const size = 200 << 20
		// The uploads are well-formed FormData whose file part never ends within the limit.
		formHead := "--xyz\r\nContent-Disposition: form-data; name=\"projectId\"\r\n\r\n" + proj.ID +
			"\r\n--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.jpg\"\r\n" +
			"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0"
		for _, c := range []struct{ name, path, ct, head string }{
			{"tRPC JSON", "/trpc/project.create", "application/json", `{"name":"`},
			{"tRPC upload", "/trpc/image.upload", "multipart/form-data; boundary=xyz", formHead},
			{"REST JSON", "/api/projects", "application/json", `{"name":"`},
			{"REST upload", "/api/projects/" + proj.ID + "/source", "multipart/form-data; boundary=xyz", formHead},
		} {
			body := &endless{head: c.head, n: size}
			resp := rawRequest(ctx, t, http.MethodPost, srv.baseURL()+c.path, good.tok, c.ct, body)
			if strings.HasPrefix(c.path, "/trpc/") {
				wantTRPCEnvelope(t, c.name+" of 200 MB", resp, http.StatusRequestEntityTooLarge)
			} else {
				wantProblem(t, c.name+" of 200 MB", resp, http.StatusRequestEntityTooLarge)
			}
			t.Logf("%s: the server stopped reading after %d MiB of %d", c.name, body.sent>>20, size>>20)
			if body.sent > size/2 {
				t.Errorf("%s: the server read %d MiB of a body it refused", c.name, body.sent>>20)
			}
		}
	})

	t.Run("deeply nested JSON", func(t *testing.T) {
		const depth = 200_000
		nested := `{"name":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
		resp := rawRequest(ctx, t, http.MethodPost, srv.baseURL()+"/trpc/project.create", good.tok, "application/json", strings.NewReader(nested))
		wantTRPCEnvelope(t, "nested JSON to project.create", resp, 0)
		resp = rawRequest(ctx, t, http.MethodPost, srv.baseURL()+"/trpc/project.create,project.create?batch=1", good.tok, "application/json",
			strings.NewReader(`{"0":`+nested+`}`))
		if resp.status < 400 || resp.status >= 500 {
			t.Errorf("nested JSON in a batch: HTTP %d %.200s; want 4xx", resp.status, resp.body)
		}
		resp = rawRequest(ctx, t, http.MethodPost, srv.baseURL()+"/api/projects", good.tok, "application/json", strings.NewReader(nested))
		wantProblem(t, "nested JSON to POST /api/projects", resp, 0)
	})

	// Still serving, still itself.
	var again snapshot
	if err := good.call(ctx, false, "project.get", map[string]any{"id": proj.ID}, &again); err != nil || again.ID != proj.ID {
		t.Fatalf("project.get after the attacks: %v", err)
	}
	if !srv.running() {
		t.Fatal("the server exited")
	}
	rss, peak := srv.memory()
	t.Logf("serve memory after the attacks: rss %d MiB, peak %d MiB", rss>>20, peak>>20)
	if peak > peakLimit {
		t.Errorf("serve's peak memory is %d MiB; want under %d MiB", peak>>20, peakLimit>>20)
	}
}

// signedToken returns a token with Supabase-shaped claims for "mallory" expiring at exp,
// signed with method and key (the none method takes jwt.UnsafeAllowNoneSignatureType).
func signedToken(t *testing.T, method jwt.SigningMethod, key any, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, jwt.MapClaims{
		"sub": "mallory", "role": "authenticated", "aud": "authenticated",
		"iat": exp.Add(-time.Hour).Unix(), "exp": exp.Unix(),
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// response is an HTTP answer with its body read (at most 1 MiB of it).
type response struct {
	status int
	header http.Header
	body   []byte
}

// rawRequest sends one request with an optional bearer token and body.
func rawRequest(ctx context.Context, t *testing.T, method, u, tok, contentType string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := body.(*endless); ok {
		req.ContentLength = e.n
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantTRPCError checks that err is a tRPC error envelope with a 4xx status (the given one
// and code, when not zero/empty) whose data.httpStatus matches.
func wantTRPCError(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var te *trpcError
	if !errors.As(err, &te) {
		t.Errorf("%s: %v; want a tRPC error envelope", what, err)
		return
	}
	if te.Status < 400 || te.Status >= 500 || (status != 0 && te.Status != status) || te.Data.HTTPStatus != te.Status ||
		te.Data.Code == "" || te.Code >= 0 || (code != "" && te.Data.Code != code) {
		t.Errorf("%s: %v (data.httpStatus %d); want a 4xx envelope%s", what, te, te.Data.HTTPStatus, wantSuffix(status, code))
	}
}

// wantTRPCEnvelope is wantTRPCError for a raw response.
func wantTRPCEnvelope(t *testing.T, what string, r response, status int) {
	t.Helper()
	var env struct {
		Error *trpcError `json:"error"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || env.Error == nil {
		t.Errorf("%s: HTTP %d %.200s; want a tRPC error envelope", what, r.status, r.body)
		return
	}
	env.Error.Status = r.status
	wantTRPCError(t, what, env.Error, status, "")
}

// wantProblem checks for a problem JSON answer (RFC 9457) with a 4xx status (the given
// one, when not zero).
func wantProblem(t *testing.T, what string, r response, status int) {
	t.Helper()
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	err := json.Unmarshal(r.body, &p)
	if r.status < 400 || r.status >= 500 || (status != 0 && r.status != status) ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") || err != nil ||
		p.Status != r.status || p.Title == "" {
		t.Errorf("%s: HTTP %d %s %.300s; want problem JSON%s", what, r.status, r.header.Get("Content-Type"), r.body, wantSuffix(status, ""))
	}
}

func wantSuffix(status int, code string) string {
	s := ""
	if status != 0 {
		s += " with status " + http.StatusText(status)
	}
	if code != "" {
		s += " and code " + code
	}
	return s
}

// wantWSRefused opens a WebSocket with tok in connectionParams, subscribes, and expects
// an UNAUTHORIZED error frame (connection-level or for the subscription).
func wantWSRefused(ctx context.Context, t *testing.T, what, base, tok, projectID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws?connectionParams=1", nil)
	if err != nil {
		t.Errorf("%s: dial: %v", what, err)
		return
	}
	defer c.CloseNow()
	params, _ := json.Marshal(map[string]any{"method": "connectionParams", "data": map[string]string{"token": tok}})
	sub, _ := json.Marshal(map[string]any{"id": 1, "method": "subscription",
		"params": map[string]any{"input": map[string]any{"id": projectID}, "path": "project.onUpdate"}})
	_ = c.Write(ctx, websocket.MessageText, params)
	_ = c.Write(ctx, websocket.MessageText, sub)
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Errorf("%s: the socket ended (%v) without an error frame", what, err)
			return
		}
		var msg struct {
			Result json.RawMessage `json:"result"`
			Error  *trpcError      `json:"error"`
		}
		if json.Unmarshal(data, &msg) != nil {
			continue
		}
		if msg.Result != nil && strings.Contains(string(msg.Result), `"data"`) {
			t.Errorf("%s: received data: %.200s", what, data)
			return
		}
		if msg.Error != nil {
			if msg.Error.Data.Code != "UNAUTHORIZED" {
				t.Errorf("%s: error frame %s; want UNAUTHORIZED", what, data)
			}
			return
		}
	}
}

// endless is a request body of n bytes made on the fly, head and then letters: a 200 MB
// upload costs the test no memory either. It counts what the server read.
type endless struct {
	head    string
	n, sent int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.sent >= e.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), e.n-e.sent)
	for i := range p[:k] {
		if at := e.sent + int64(i); at < int64(len(e.head)) {
			p[i] = e.head[at]
		} else {
			p[i] = 'a'
		}
	}
	e.sent += k
	return int(k), nil
}

// bombPNG is a ~10 KB PNG whose header claims 50,000 × 50,000 pixels (2.5 GB decoded).
func bombPNG(t *testing.T) []byte {
	t.Helper()
	chunk := func(typ string, data []byte) []byte {
		var b bytes.Buffer
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
		return b.Bytes()
	}
	var ihdr bytes.Buffer
	_ = binary.Write(&ihdr, binary.BigEndian, uint32(50000))
	_ = binary.Write(&ihdr, binary.BigEndian, uint32(50000))
	ihdr.Write([]byte{8, 0, 0, 0, 0})
	var idat bytes.Buffer
	zw := zlib.NewWriter(&idat)
	_, _ = zw.Write(make([]byte, 10<<20))
	_ = zw.Close()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	b.Write(chunk("IHDR", ihdr.Bytes()))
	b.Write(chunk("IDAT", idat.Bytes()))
	b.Write(chunk("IEND", nil))
	return b.Bytes()
}

// multipartFile is a FormData body with one file field.
func multipartFile(data []byte) (io.Reader, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "photo.jpg")
	_, _ = fw.Write(data)
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}
