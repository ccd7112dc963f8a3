package trpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file restores superjson's meta.referentialEqualities in an input, within
// a byte budget and a depth limit (superjson_input.go calls applyReferences).

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
