package trpc

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Transformer selects how inputs and outputs are serialised. It must match
// the transformer the client's links use.
type Transformer string

const (
	// TransformerJSON sends plain JSON (the client uses no transformer).
	TransformerJSON Transformer = "json"
	// TransformerSuperJSON wraps every output in superjson's
	// {"json":…,"meta":…} (the client uses `transformer: superjson`).
	TransformerSuperJSON Transformer = "superjson"
)

// Set is a set of values. Under superjson the client receives a JS Set; under
// plain JSON an array (sorted when the elements are strings or numbers).
type Set[T comparable] map[T]struct{}

// Map is a map that the client receives as a JS Map under superjson and as a
// plain object under JSON. Use an ordinary Go map for a plain object in both.
type Map[K comparable, V any] map[K]V

// UnmarshalJSON reads a Set from a JSON array (how both transformers send
// a set).
func (s *Set[T]) UnmarshalJSON(b []byte) error {
	var vals []T
	if err := json.Unmarshal(b, &vals); err != nil {
		return fmt.Errorf("decode set: %w", err)
	}
	*s = make(Set[T], len(vals))
	for _, v := range vals {
		(*s)[v] = struct{}{}
	}
	return nil
}

func (Set[T]) superjsonKind() string    { return "set" }
func (Map[K, V]) superjsonKind() string { return "map" }

type superjsonKinded interface{ superjsonKind() string }

var (
	timeType       = reflect.TypeFor[time.Time]()
	bigIntType     = reflect.TypeFor[big.Int]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	jsonMarshaler  = reflect.TypeFor[json.Marshaler]()
	textMarshaler  = reflect.TypeFor[encoding.TextMarshaler]()
	kindedType     = reflect.TypeFor[superjsonKinded]()
)

// encoder writes a Go value as JSON, and under superjson collects the type
// annotations of values JSON cannot carry (Date, bigint, undefined, Map, Set,
// NaN and ±Infinity) the way superjson's walker does.
type encoder struct {
	super bool
	buf   bytes.Buffer
}

// serialize returns the wire form of v: plain JSON, or superjson's
// {"json":…,"meta":{"values":…,"v":1}}.
func (t Transformer) serialize(v any) ([]byte, error) {
	if s, ok := v.(errorShape); ok && s.wire != "" && s.wire != t {
		return s.wire.serialize(v)
	}
	e := &encoder{super: t == TransformerSuperJSON}
	if !e.super {
		if _, err := e.value(reflect.ValueOf(v)); err != nil {
			return nil, err
		}
		return e.buf.Bytes(), nil
	}
	e.buf.WriteString(`{"json":`)
	ann, err := e.value(reflect.ValueOf(v))
	if err != nil {
		return nil, err
	}
	if ann != nil {
		meta, err := json.Marshal(map[string]any{"values": ann, "v": 1})
		if err != nil {
			return nil, fmt.Errorf("encode superjson meta: %w", err)
		}
		e.buf.WriteString(`,"meta":`)
		e.buf.Write(meta)
	}
	e.buf.WriteByte('}')
	return e.buf.Bytes(), nil
}

// escapeKey escapes a path segment as superjson (meta "v":1) does.
func escapeKey(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, `\`, `\\`), ".", `\.`)
}

// annotations: nil, []any{type}, map[string]any{path: ann} or
// []any{type, map[string]any{...}}.
type inner map[string]any

func (in inner) add(key string, ann any) {
	switch a := ann.(type) {
	case nil:
	case inner:
		for k, v := range a {
			in[escapeKey(key)+"."+k] = v
		}
	default:
		in[escapeKey(key)] = a
	}
}

func leaf(typ string) any { return []any{typ} }

func withType(typ string, in inner) any {
	if len(in) == 0 {
		return leaf(typ)
	}
	return []any{typ, map[string]any(in)}
}

func orNil(in inner) any {
	if len(in) == 0 {
		return nil
	}
	return in
}

func (e *encoder) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	e.buf.Write(b)
	return nil
}

func (e *encoder) value(v reflect.Value) (any, error) {
	if !v.IsValid() {
		e.buf.WriteString("null")
		return nil, nil
	}
	t := v.Type()
	switch {
	case t == rawMessageType:
		if v.Len() == 0 {
			e.buf.WriteString("null")
			return nil, nil
		}
		e.buf.Write(v.Bytes())
		return nil, nil
	case t == timeType:
		tm := v.Interface().(time.Time)
		if e.super {
			e.buf.WriteString(strconv.Quote(tm.UTC().Format("2006-01-02T15:04:05.000Z")))
			return leaf("Date"), nil
		}
		return nil, e.writeJSON(tm)
	case t == bigIntType:
		b := v.Interface().(big.Int)
		if e.super {
			e.buf.WriteString(strconv.Quote(b.String()))
			return leaf("bigint"), nil
		}
		e.buf.WriteString(b.String())
		return nil, nil
	case t.Implements(kindedType) && t.Kind() == reflect.Map:
		return e.kinded(v)
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && (t.Implements(jsonMarshaler) || t.Implements(textMarshaler)):
		return nil, e.writeJSON(v.Interface())
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && v.CanAddr() && (reflect.PointerTo(t).Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(textMarshaler)):
		return nil, e.writeJSON(v.Addr().Interface())
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.buf.WriteString("null")
			return nil, nil
		}
		if t.Kind() == reflect.Pointer && (t.Implements(jsonMarshaler) || t.Implements(textMarshaler)) && t.Elem() != bigIntType && t.Elem() != timeType {
			return nil, e.writeJSON(v.Interface())
		}
		return e.value(v.Elem())
	case reflect.Bool:
		e.buf.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		return e.float(v.Float(), t.Bits())
	case reflect.String:
		return nil, e.writeJSON(v.String())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(jsonMarshaler) {
			e.buf.WriteString(strconv.Quote(base64.StdEncoding.EncodeToString(v.Bytes())))
			return nil, nil
		}
		return e.array(v)
	case reflect.Array:
		return e.array(v)
	case reflect.Map:
		return e.object(v)
	case reflect.Struct:
		return e.structValue(v)
	default:
		return nil, fmt.Errorf("encode output: unsupported type %s", t)
	}
	return nil, nil
}

func (e *encoder) float(f float64, bits int) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if !e.super {
			e.buf.WriteString("null")
			return nil, nil
		}
		s := "NaN"
		if math.IsInf(f, 1) {
			s = "Infinity"
		} else if math.IsInf(f, -1) {
			s = "-Infinity"
		}
		e.buf.WriteString(strconv.Quote(s))
		return leaf("number"), nil
	}
	var b []byte
	var err error
	if bits == 32 {
		b, err = json.Marshal(float32(f))
	} else {
		b, err = json.Marshal(f)
	}
	if err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	e.buf.Write(b)
	return nil, nil
}

func (e *encoder) array(v reflect.Value) (any, error) {
	in := inner{}
	e.buf.WriteByte('[')
	for i := range v.Len() {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		ann, err := e.value(v.Index(i))
		if err != nil {
			return nil, err
		}
		in.add(strconv.Itoa(i), ann)
	}
	e.buf.WriteByte(']')
	return orNil(in), nil
}

// mapKeys returns the map's keys as strings (as encoding/json would write
// them), sorted, with their values.
func mapKeys(v reflect.Value) ([]string, []reflect.Value, error) {
	keys := v.MapKeys()
	names := make([]string, len(keys))
	for i, k := range keys {
		switch {
		case k.Kind() == reflect.String:
			names[i] = k.String()
		case k.Type().Implements(textMarshaler):
			b, err := k.Interface().(encoding.TextMarshaler).MarshalText()
			if err != nil {
				return nil, nil, fmt.Errorf("encode map key: %w", err)
			}
			names[i] = string(b)
		case k.CanInt():
			names[i] = strconv.FormatInt(k.Int(), 10)
		case k.CanUint():
			names[i] = strconv.FormatUint(k.Uint(), 10)
		default:
			return nil, nil, fmt.Errorf("encode output: unsupported map key type %s", k.Type())
		}
	}
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return names[idx[a]] < names[idx[b]] })
	sortedNames := make([]string, len(keys))
	vals := make([]reflect.Value, len(keys))
	for i, j := range idx {
		sortedNames[i] = names[j]
		vals[i] = keys[j]
	}
	return sortedNames, vals, nil
}

func (e *encoder) object(v reflect.Value) (any, error) {
	names, keys, err := mapKeys(v)
	if err != nil {
		return nil, err
	}
	in := inner{}
	e.buf.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		e.buf.WriteString(strconv.Quote(name))
		e.buf.WriteByte(':')
		ann, err := e.value(v.MapIndex(keys[i]))
		if err != nil {
			return nil, err
		}
		in.add(name, ann)
	}
	e.buf.WriteByte('}')
	return orNil(in), nil
}

// kinded writes a Map or Set: superjson's entry array / value array with a
// "map" / "set" annotation, or under JSON an object / array.
func (e *encoder) kinded(v reflect.Value) (any, error) {
	kind := v.Interface().(superjsonKinded).superjsonKind()
	if kind == "map" && !e.super {
		return e.object(v)
	}
	_, keys, err := mapKeys(v)
	if err != nil {
		return nil, err
	}
	in := inner{}
	e.buf.WriteByte('[')
	for i, k := range keys {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		if kind == "set" {
			ann, err := e.value(k)
			if err != nil {
				return nil, err
			}
			in.add(strconv.Itoa(i), ann)
			continue
		}
		e.buf.WriteByte('[')
		entry := inner{}
		ann, err := e.value(k)
		if err != nil {
			return nil, err
		}
		entry.add("0", ann)
		e.buf.WriteByte(',')
		if ann, err = e.value(v.MapIndex(k)); err != nil {
			return nil, err
		}
		entry.add("1", ann)
		in.add(strconv.Itoa(i), orNil(entry))
		e.buf.WriteByte(']')
	}
	e.buf.WriteByte(']')
	if !e.super {
		return nil, nil
	}
	return withType(kind, in), nil
}

func (e *encoder) structValue(v reflect.Value) (any, error) {
	in := inner{}
	e.buf.WriteByte('{')
	first := true
	for _, f := range structFields(v.Type()) {
		fv, ok := fieldByIndex(v, f.index)
		if !ok {
			continue
		}
		if (f.omitEmpty && isEmptyValue(fv)) || (f.omitZero && fv.IsZero()) {
			continue
		}
		if !first {
			e.buf.WriteByte(',')
		}
		first = false
		e.buf.WriteString(strconv.Quote(f.name))
		e.buf.WriteByte(':')
		if f.quoted && isQuotable(fv) {
			if err := e.writeJSON(fmt.Sprint(fv.Interface())); err != nil {
				return nil, err
			}
			continue
		}
		ann, err := e.value(fv)
		if err != nil {
			return nil, err
		}
		in.add(f.name, ann)
	}
	e.buf.WriteByte('}')
	return orNil(in), nil
}
