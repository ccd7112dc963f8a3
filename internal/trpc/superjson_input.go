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
// bigint arrives as a JSON number and a Map as an object; Dates stay ISO
// strings, which time.Time decodes.
func (t Transformer) deserialize(raw []byte) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	if t != TransformerSuperJSON {
		return raw, nil
	}
	var env struct {
		JSON json.RawMessage `json:"json"`
		Meta *struct {
			Values json.RawMessage `json:"values"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("superjson input: %w", err)
	}
	if env.Meta == nil || len(env.Meta.Values) == 0 {
		if len(env.JSON) == 0 {
			return nil, nil
		}
		return env.JSON, nil
	}
	var ann any
	if err := json.Unmarshal(env.Meta.Values, &ann); err != nil {
		return nil, fmt.Errorf("superjson meta: %w", err)
	}
	var v any
	if len(env.JSON) > 0 {
		d := json.NewDecoder(bytes.NewReader(env.JSON))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("superjson input: %w", err)
		}
	}
	v, err := applyAnnotation(v, ann)
	if err != nil {
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
