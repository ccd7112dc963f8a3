package trpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// deserialize turns one serialized input into plain JSON, or nil for
// undefined. Under superjson it applies meta.values so that, for example, a
// bigint arrives as a JSON number and a Map as an object (Dates stay ISO
// strings, which time.Time decodes), then meta.referentialEqualities.
//
// An input in the other transformer's shape fails with a
// *transformerMismatch: under superjson anything but an envelope; under
// JSON an envelope, which decodeInput lets through after all when the
// procedure's input has a field named json.
//
// maxDepth caps the nesting of an input with referentialEqualities (see
// applyReferences).
func (t Transformer) deserialize(raw []byte, maxDepth int) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	if t != TransformerSuperJSON {
		if isEnvelope(raw) {
			return raw, &transformerMismatch{client: TransformerSuperJSON, server: t, raw: raw}
		}
		return raw, nil
	}
	if string(raw) == "null" {
		return nil, nil
	}
	if !json.Valid(raw) {
		// Not a plain JSON client either: answered in the server's own
		// transformer, as a broken request from any client.
		return nil, errMalformedJSON
	}
	env, ok := envelope(raw)
	if !ok {
		return nil, &transformerMismatch{client: TransformerJSON, server: t}
	}
	var meta struct {
		Values                json.RawMessage `json:"values"`
		ReferentialEqualities json.RawMessage `json:"referentialEqualities"`
	}
	if len(env.meta) > 0 {
		if err := json.Unmarshal(env.meta, &meta); err != nil {
			return nil, fmt.Errorf("superjson meta: %w", err)
		}
	}
	if len(meta.Values) == 0 && len(meta.ReferentialEqualities) == 0 {
		if string(env.json) == "null" {
			return nil, nil
		}
		return env.json, nil
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(env.json))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("superjson input: %w", err)
	}
	if len(meta.Values) > 0 {
		var ann any
		if err := json.Unmarshal(meta.Values, &ann); err != nil {
			return nil, fmt.Errorf("superjson meta: %w", err)
		}
		var err error
		if v, err = applyAnnotation(v, ann); err != nil {
			return nil, err
		}
	}
	if len(meta.ReferentialEqualities) > 0 {
		var err error
		if v, err = applyReferences(v, meta.ReferentialEqualities, len(raw), maxDepth); err != nil {
			return nil, err
		}
	}
	var err error
	if v, err = mapsToObjects(v); err != nil {
		return nil, err
	}
	if v == undefined {
		return nil, nil
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("superjson input: %w", err)
	}
	return out, nil
}

var errMalformedJSON = errors.New("malformed JSON")

// transformerEnv is the setting that picks the server's transformer; a
// mismatch error names it so that whoever reads the error knows what to
// change.
const transformerEnv = "PACKSHOT_TRPC_TRANSFORMER"

// transformerMismatch is an input in the shape of the client transformer,
// not the server's.
type transformerMismatch struct {
	client, server Transformer
	// raw is the input, for decodeInput to use when it was plain JSON
	// after all.
	raw []byte
}

func (m *transformerMismatch) Error() string {
	return fmt.Sprintf("input is in %s's shape, the server speaks %s", m.client, m.server)
}

// toError is the BAD_REQUEST the client sees, sent in the client's own
// transformer so that it can read it (the router's would only give it
// "Unable to transform response from server").
func (m *transformerMismatch) toError() *Error {
	var msg string
	if m.client == TransformerSuperJSON {
		msg = fmt.Sprintf("Invalid input: got a superjson envelope {\"json\":…} but this server's transformer is %s (%s): "+
			"remove transformer: superjson from the client's links, or run the server with %s=superjson", m.server, transformerEnv, transformerEnv)
	} else {
		msg = fmt.Sprintf("Invalid input: expected a superjson envelope {\"json\":…} because this server's transformer is superjson (%s): "+
			"pass transformer: superjson to the client's links, or run the server with %s=json", transformerEnv, transformerEnv)
	}
	return &Error{Code: CodeBadRequest, Message: msg, Err: m, wire: m.client}
}

// envelopeParts are the members of a superjson envelope.
type envelopeParts struct {
	json, meta json.RawMessage
}

// envelope splits raw if it is an object of the form superjson's serialize
// produces: a "json" member and at most an object "meta" besides.
func envelope(raw []byte) (envelopeParts, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return envelopeParts{}, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return envelopeParts{}, false
	}
	j, ok := m["json"]
	if !ok {
		return envelopeParts{}, false
	}
	meta, hasMeta := m["meta"]
	if len(m) != 1 && (len(m) != 2 || !hasMeta || len(meta) == 0 || (meta[0] != '{' && string(meta) != "null")) {
		return envelopeParts{}, false
	}
	if string(meta) == "null" {
		meta = nil
	}
	return envelopeParts{json: j, meta: meta}, true
}

// isEnvelope reports whether raw looks like a superjson envelope.
func isEnvelope(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '{' || !bytes.Contains(raw, []byte(`"json"`)) {
		return false
	}
	_, ok := envelope(raw)
	return ok
}

// undefined marks a value superjson annotated as undefined.
var undefined = &struct{ undefined bool }{true}

func applyAnnotation(v any, ann any) (any, error) {
	switch a := ann.(type) {
	case []any:
		if len(a) == 0 {
			return nil, errors.New("superjson meta: empty annotation")
		}
		typ, ok := a[0].(string)
		if !ok {
			return nil, errors.New("superjson meta: annotation type is not a string")
		}
		if len(a) > 1 {
			m, ok := a[1].(map[string]any)
			if !ok {
				return nil, errors.New("superjson meta: bad nested annotation")
			}
			var err error
			if v, err = applyInner(v, m); err != nil {
				return nil, err
			}
		}
		return untransform(v, typ)
	case map[string]any:
		return applyInner(v, a)
	default:
		return nil, errors.New("superjson meta: bad annotation")
	}
}

func applyInner(v any, m map[string]any) (any, error) {
	for path, ann := range m {
		segs := splitPath(path)
		var err error
		if v, err = updateAt(v, segs, func(x any) (any, error) { return applyAnnotation(x, ann) }); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// splitPath splits a superjson path on unescaped dots.
func splitPath(p string) []string {
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			cur.WriteByte(p[i])
		case p[i] == '.':
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(p[i])
		}
	}
	return append(segs, cur.String())
}

func updateAt(v any, segs []string, fn func(any) (any, error)) (any, error) {
	if len(segs) == 0 {
		return fn(v)
	}
	switch c := v.(type) {
	case map[string]any:
		child, ok := c[segs[0]]
		if !ok {
			return nil, fmt.Errorf("superjson meta: no value at %q", segs[0])
		}
		nv, err := updateAt(child, segs[1:], fn)
		if err != nil {
			return nil, err
		}
		if nv == undefined {
			delete(c, segs[0])
		} else {
			c[segs[0]] = nv
		}
		return c, nil
	case []any:
		i, err := strconv.Atoi(segs[0])
		if err != nil || i < 0 || i >= len(c) {
			return nil, fmt.Errorf("superjson meta: no value at %q", segs[0])
		}
		nv, err := updateAt(c[i], segs[1:], fn)
		if err != nil {
			return nil, err
		}
		if nv == undefined {
			nv = nil
		}
		c[i] = nv
		return c, nil
	case mapNode:
		nv, err := updateAt([]any(c), segs, fn)
		if err != nil {
			return nil, err
		}
		return mapNode(nv.([]any)), nil
	default:
		return nil, fmt.Errorf("superjson meta: no value at %q", segs[0])
	}
}

func untransform(v any, typ string) (any, error) {
	switch typ {
	case "undefined":
		return undefined, nil
	case "bigint":
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("superjson: bigint is not a string")
		}
		n := json.Number(s)
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("superjson: bad bigint %q", s)
		}
		return n, nil
	case "map":
		entries, ok := v.([]any)
		if !ok {
			return nil, errors.New("superjson: map is not an array")
		}
		for _, e := range entries {
			if kv, ok := e.([]any); !ok || len(kv) != 2 {
				return nil, errors.New("superjson: bad map entry")
			}
		}
		return mapNode(entries), nil
	default:
		// Date stays an ISO string, set stays an array; other types
		// (number's NaN, regexp, …) are left for the Go decoder to judge.
		return v, nil
	}
}

// mapNode is a superjson Map while its input's references are restored: its
// entry list, [[key, value], …], which is what superjson's paths into a Map
// ("m.0.1": row 0, its value) walk. mapsToObjects then makes it an object.
type mapNode []any

// asList returns an array or a mapNode's entry list.
func asList(v any) []any {
	if m, ok := v.(mapNode); ok {
		return m
	}
	return v.([]any)
}

// mapsToObjects turns every mapNode in v into the object a Go map (or
// struct) decodes from.
func mapsToObjects(v any) (any, error) {
	switch c := v.(type) {
	case map[string]any:
		for k, x := range c {
			nx, err := mapsToObjects(x)
			if err != nil {
				return nil, err
			}
			c[k] = nx
		}
	case []any:
		for i, x := range c {
			nx, err := mapsToObjects(x)
			if err != nil {
				return nil, err
			}
			c[i] = nx
		}
	case mapNode:
		m := make(map[string]any, len(c))
		for _, e := range c {
			kv := e.([]any)
			var key string
			switch k := kv[0].(type) {
			case string:
				key = k
			case json.Number:
				key = k.String()
			case bool:
				key = strconv.FormatBool(k)
			default:
				return nil, errors.New("superjson: unsupported map key")
			}
			if kv[1] == undefined {
				continue
			}
			val, err := mapsToObjects(kv[1])
			if err != nil {
				return nil, err
			}
			m[key] = val
		}
		return m, nil
	}
	return v, nil
}

// deserialize is the router's transformer's deserialize under the router's
// limits. A failure is the BAD_REQUEST (PAYLOAD_TOO_LARGE for
// LimitInputExpansion) that the call fails with, saying why; a refusal by a
// limit is counted.
func (r *Router) deserialize(raw []byte) ([]byte, *Error) {
	depth := r.cfg.MaxInputDepth
	if depth <= 0 {
		depth = defaultMaxInputDepth
	}
	in, err := r.cfg.Transformer.deserialize(raw, depth)
	if err == nil {
		return in, nil
	}
	code := CodeBadRequest
	var le *limitError
	if errors.As(err, &le) {
		code = le.code
		if r.cfg.LimitRefusedFunc != nil {
			r.cfg.LimitRefusedFunc(le.limit)
		}
	}
	return nil, &Error{Code: code, Message: "Invalid input: " + err.Error(), Err: err}
}

// streamTransformer is the transformer a JSONL stream is written in. The
// client reads each whole line with its own transformer, so an error nested
// in a line cannot be sent in another (as toError's are elsewhere): when a
// call's input shows that the client speaks the other transformer, the whole
// stream is written in the client's, so that it can read why.
func (r *Router) streamTransformer(pr *request) Transformer {
	for _, c := range pr.calls {
		var tm *transformerMismatch
		if c.input.err == nil || !errors.As(c.input.err.Err, &tm) {
			continue
		}
		if tm.client == TransformerSuperJSON && c.proc != nil && hasJSONField(c.proc.inType) {
			continue // plain JSON after all (see decodeInput)
		}
		return tm.client
	}
	return r.cfg.Transformer
}
