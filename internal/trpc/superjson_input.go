package trpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
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

// Limits of restoring referentialEqualities (Config.MaxInputDepth holds the
// depth; the byte budget is the input's own size).
const (
	// LimitInputExpansion: restoring an input's superjson
	// referentialEqualities would add more bytes than the input has.
	LimitInputExpansion Limit = "superjson_input_expansion"
	// LimitInputDepth: a superjson input with referentialEqualities nests
	// deeper than Config.MaxInputDepth, or would once they are restored.
	LimitInputDepth Limit = "superjson_input_depth"
)

// defaultMaxInputDepth is Config.MaxInputDepth's default.
const defaultMaxInputDepth = 100

// limitError is an input refused by one of the limits above; the router
// counts it and answers with code.
type limitError struct {
	limit Limit
	code  Code
	msg   string
}

func (e *limitError) Error() string { return e.msg + " (limit " + string(e.limit) + ")" }

// applyReferences restores superjson's meta.referentialEqualities: each
// source path's value is copied to its target paths, in the order the
// client listed them. Go values have no identity, so a target that already
// holds a value (superjson without dedupe sends every copy in full) keeps
// it; a null target (dedupe: true) receives a copy.
//
// Each copy is charged its encoded size against budget (the input's size in
// bytes), so the restored input takes at most twice the bytes that were
// sent, however short its strings and keys were on the wire; and the result
// may nest at most maxDepth levels, so that nothing walking it (here, the
// JSON encoder, the procedure's decoder) recurses without bound. An input
// that refers to itself is refused, as JSON cannot hold it.
func applyReferences(v any, raw json.RawMessage, budget, maxDepth int) (any, error) {
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
	tooDeep := &limitError{limit: LimitInputDepth, code: CodeBadRequest,
		msg: fmt.Sprintf("superjson input nests deeper than %d levels once its referentialEqualities are restored", maxDepth)}
	if depthOf(v, maxDepth) > maxDepth {
		return nil, tooDeep
	}
	for _, ref := range refs {
		paths := make([][]string, 0, 1+len(ref.targets))
		paths = append(paths, splitPath(ref.source))
		for _, target := range ref.targets {
			paths = append(paths, splitPath(target))
		}
		if nestsInItself(paths) {
			return nil, errCircular
		}
		src, err := valueAt(v, paths[0])
		if err != nil {
			return nil, err
		}
		for _, segs := range paths[1:] {
			cur, err := valueAt(v, segs)
			if err != nil || cur != nil {
				if err != nil {
					return nil, err
				}
				continue
			}
			// The budget first: measuring the copy costs about as much as
			// it is charged, so the work here stays within the budget too.
			if budget -= encodedSize(src, budget); budget < 0 {
				return nil, &limitError{limit: LimitInputExpansion, code: CodePayloadTooLarge,
					msg: "restoring the superjson input's referentialEqualities would add more bytes than the input has"}
			}
			if len(segs)+depthOf(src, maxDepth) > maxDepth {
				return nil, tooDeep
			}
			cp := deepCopy(src)
			if v, err = updateAt(v, segs, func(any) (any, error) { return cp, nil }); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// nestsInItself reports whether one of paths, which all hold the same
// value, lies at or under another (compared by segment, so "a.b" is not
// under "a.bc"): the value would contain itself.
func nestsInItself(paths [][]string) bool {
	sorted := slices.Clone(paths)
	slices.SortFunc(sorted, slices.Compare)
	// A path's descendants sort right after it.
	for i := 1; i < len(sorted); i++ {
		prev, cur := sorted[i-1], sorted[i]
		if len(cur) >= len(prev) && slices.Equal(cur[:len(prev)], prev) {
			return true
		}
	}
	return false
}

// depthOf returns how deep v nests (a scalar is 0, [] or {} is 1), or a
// number above limit as soon as it finds one.
func depthOf(v any, limit int) int {
	if limit < 0 {
		return 1
	}
	var children []any
	switch c := v.(type) {
	case map[string]any:
		for _, x := range c {
			children = append(children, x)
		}
	case []any:
		children = c
	case mapNode:
		children = c
	default:
		return 0
	}
	d := 0
	for _, x := range children {
		if cd := depthOf(x, limit-1); cd > d {
			if d = cd; d > limit-1 {
				break
			}
		}
	}
	return d + 1
}

// encodedSize returns the bytes json.Marshal writes for v (for a mapNode,
// its entry list, which is longer than the object it becomes), or a number
// above limit as soon as it gets there.
func encodedSize(v any, limit int) int {
	switch c := v.(type) {
	case nil:
		return 4
	case bool:
		if c {
			return 4
		}
		return 5
	case json.Number:
		return len(c)
	case string:
		return quotedSize(c)
	case map[string]any:
		n := 1 + len(c)
		for k, x := range c {
			if n > limit {
				break
			}
			n += quotedSize(k) + 1 + encodedSize(x, limit-n)
		}
		return max(n, 2)
	case []any:
		return listSize(c, limit)
	case mapNode:
		return listSize(c, limit)
	default:
		// Values applyAnnotation made are numbers and the marker of
		// undefined; nothing else reaches here.
		return 4
	}
}

func listSize(c []any, limit int) int {
	n := 1 + len(c)
	for _, x := range c {
		if n > limit {
			break
		}
		n += encodedSize(x, limit-n)
	}
	return max(n, 2)
}

// quotedSize is the length of s as json.Marshal quotes it: control
// characters, HTML characters, U+2028/9 and invalid UTF-8 are escaped.
func quotedSize(s string) int {
	n := 2
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\' || b == '\n' || b == '\r' || b == '\t' || b == '\b' || b == '\f':
				n += 2
			case b < 0x20 || b == '<' || b == '>' || b == '&':
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
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
		case []any, mapNode:
			l := asList(c)
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(l) {
				return nil, fmt.Errorf("superjson meta: no value at %q", seg)
			}
			v = l[i]
		default:
			return nil, fmt.Errorf("superjson meta: no value at %q", seg)
		}
	}
	return v, nil
}

func deepCopy(v any) any {
	switch c := v.(type) {
	case mapNode:
		return mapNode(deepCopy([]any(c)).([]any))
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
