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
func (t Transformer) deserialize(raw []byte) ([]byte, error) {
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
		if v, err = applyReferences(v, meta.ReferentialEqualities, len(raw)); err != nil {
			return nil, err
		}
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

// applyReferences restores superjson's meta.referentialEqualities: each
// source path's value is copied to its target paths, in the order the
// client listed them. Go values have no identity, so a target that already
// holds a value (superjson without dedupe sends every copy in full) keeps
// it; a null target (dedupe: true) receives a copy. The copies may add at
// most budget values (the input's size in bytes: every value takes at least
// a byte when sent in full), so a short input cannot expand without bound;
// an input that refers to itself is refused, as JSON cannot hold it.
func applyReferences(v any, raw json.RawMessage, budget int) (any, error) {
	if len(raw) > 0 && raw[0] == '[' {
		// [rootTargets] or [rootTargets, {source: targets}]: the root is
		// referenced from inside itself.
		var form []json.RawMessage
		if err := json.Unmarshal(raw, &form); err != nil || len(form) == 0 || len(form) > 2 {
			return nil, errors.New("superjson meta: bad referentialEqualities")
		}
		var root []string
		if err := json.Unmarshal(form[0], &root); err != nil {
			return nil, errors.New("superjson meta: bad referentialEqualities")
		}
		if len(root) > 0 {
			return nil, errCircular
		}
		if len(form) == 1 {
			return v, nil
		}
		raw = form[1]
	}
	refs, err := orderedReferences(raw)
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		src, err := valueAt(v, splitPath(ref.source))
		if err != nil {
			return nil, err
		}
		for _, target := range ref.targets {
			if target == ref.source || strings.HasPrefix(target, ref.source+".") {
				return nil, errCircular
			}
			segs := splitPath(target)
			cur, err := valueAt(v, segs)
			if err != nil || cur != nil {
				if err != nil {
					return nil, err
				}
				continue
			}
			if budget -= countValues(src); budget < 0 {
				return nil, errors.New("superjson meta: restoring referentialEqualities adds more values than the input has bytes")
			}
			cp := deepCopy(src)
			if v, err = updateAt(v, segs, func(any) (any, error) { return cp, nil }); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

var errCircular = errors.New("superjson meta: the input refers to itself, which JSON cannot hold")

type reference struct {
	source  string
	targets []string
}

// orderedReferences reads {source: [targets…]} keeping the sources in the
// order they were sent (a later source may lie inside an earlier target).
func orderedReferences(raw json.RawMessage) ([]reference, error) {
	bad := errors.New("superjson meta: bad referentialEqualities")
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad
	}
	var refs []reference
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, bad
		}
		var ref reference
		ref.source, _ = tok.(string)
		if err := d.Decode(&ref.targets); err != nil {
			return nil, bad
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// valueAt returns the value at a path of decoded JSON.
func valueAt(v any, segs []string) (any, error) {
	for _, seg := range segs {
		switch c := v.(type) {
		case map[string]any:
			child, ok := c[seg]
			if !ok {
				return nil, fmt.Errorf("superjson meta: no value at %q", seg)
			}
			v = child
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("superjson meta: no value at %q", seg)
			}
			v = c[i]
		default:
			return nil, fmt.Errorf("superjson meta: no value at %q", seg)
		}
	}
	return v, nil
}

// countValues counts the values in decoded JSON, containers included.
func countValues(v any) int {
	n := 1
	switch c := v.(type) {
	case map[string]any:
		for _, x := range c {
			n += countValues(x)
		}
	case []any:
		for _, x := range c {
			n += countValues(x)
		}
	}
	return n
}

func deepCopy(v any) any {
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, x := range c {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(c))
		for i, x := range c {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
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
		m := make(map[string]any, len(entries))
		for _, e := range entries {
			kv, ok := e.([]any)
			if !ok || len(kv) != 2 {
				return nil, errors.New("superjson: bad map entry")
			}
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
			if kv[1] != undefined {
				m[key] = kv[1]
			}
		}
		return m, nil
	default:
		// Date stays an ISO string, set stays an array; other types
		// (number's NaN, regexp, …) are left for the Go decoder to judge.
		return v, nil
	}
}
