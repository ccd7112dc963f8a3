package trpc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// TypeScriptTyper is implemented by types that name their own TypeScript
// type, such as a string enum returning `"draft" | "ready"`.
type TypeScriptTyper interface {
	TypeScriptType() string
}

var typeScriptTyper = reflect.TypeFor[TypeScriptTyper]()

// WriteTypeScript writes a TypeScript module that exports AppRouter, the
// type of r built from @trpc/server's published types, so that
// createTRPCClient<AppRouter> types every procedure's input and output. It
// also exports an interface per named Go struct, ErrorShape (every field of
// errorShape) and ZodFlattenedError.
//
// Types follow encoding/json: json tags name fields, omitempty/omitzero
// make them optional, pointers add "| null", []byte is a base64 string and
// a TypeScriptTyper names its own type. time.Time is Date under superjson
// and string under JSON; big.Int is bigint / number; Map and Set are Map
// and Set / a Record and an array; Void is void; FormData and Blob are the
// browser's FormData and Blob. A subscription's output is an
// AsyncIterable of TrackedData, so onData receives {id, data}
// (of the data itself for one registered with Untracked). A streaming query
// (Stream) is a query whose output is an AsyncIterable in AppRouter, and a
// subscription in AppStreamRouter, which holds only those.
//
// Options add the application's vocabulary: string unions with the array of
// their values (TSEnum), constants (TSConst), and the TypeScript type of Go
// types and struct fields whose Go type is wider than their values (TSType,
// TSField).
func WriteTypeScript(w io.Writer, r *Router, opts ...TypeScriptOption) error {
	g := &tsGen{super: r.cfg.Transformer == TransformerSuperJSON, names: map[reflect.Type]string{}, taken: map[string]bool{"AppRouter": true, "AppStreamRouter": true, "ErrorShape": true, "TrackedData": true, "ZodFlattenedError": true},
		types: map[reflect.Type]string{}, fields: map[reflect.Type]map[string]string{}, fieldUsed: map[reflect.Type]map[string]bool{}}
	for _, o := range opts {
		o(g)
	}
	tree, streams := map[string]any{}, map[string]any{}
	for _, path := range r.paths() {
		p := r.procs[path]
		in, out := g.typ(p.inType), g.typ(p.outType)
		var proc string
		switch {
		case p.stream:
			// As @trpc/server types a query whose resolver is an async
			// generator; the client's .query() resolves to the iterable.
			proc = fmt.Sprintf("TRPCQueryProcedure<{ input: %s; output: AsyncIterable<%s, void, any>; meta: object }>", in, out)
			if err := addToTree(streams, path, fmt.Sprintf("TRPCSubscriptionProcedure<{ input: %s; output: AsyncIterable<%s, void, any>; meta: object }>", in, out)); err != nil {
				return err
			}
		case p.kind == kindQuery:
			proc = fmt.Sprintf("TRPCQueryProcedure<{ input: %s; output: %s; meta: object }>", in, out)
		case p.kind == kindMutation:
			proc = fmt.Sprintf("TRPCMutationProcedure<{ input: %s; output: %s; meta: object }>", in, out)
		default:
			if !p.untracked {
				out = "TrackedData<" + out + ">"
			}
			proc = fmt.Sprintf("TRPCSubscriptionProcedure<{ input: %s; output: AsyncIterable<%s, void, any>; meta: object }>", in, out)
		}
		if err := addToTree(tree, path, proc); err != nil {
			return err
		}
	}
	consts := make([]string, len(g.consts))
	for i, c := range g.consts {
		consts[i] = g.constDecl(c)
	}
	if err := g.check(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "// Code generated from the Go tRPC router (transformer: %s). DO NOT EDIT.\n\n", r.cfg.Transformer)
	bw.WriteString("import type {\n  TRPCBuiltRouter,\n  TRPCDefaultErrorShape,\n  TRPCMutationProcedure,\n  TRPCQueryProcedure,\n  TRPCSubscriptionProcedure,\n} from '@trpc/server';\n\n")
	bw.WriteString("/** A tracked subscription event as onData receives it; id is sent back as lastEventId on resubscribe. */\n")
	bw.WriteString("export interface TrackedData<T> {\n  id: string;\n  data: T;\n}\n\n")
	bw.WriteString(errorShapeTS)
	bw.WriteString("/** The Go router's type, for createTRPCClient<AppRouter>. */\n")
	fmt.Fprintf(bw, "export type AppRouter = TRPCBuiltRouter<\n  { ctx: object; meta: object; errorShape: ErrorShape; transformer: %t },\n  ", g.super)
	writeTree(bw, tree, "  ")
	bw.WriteString("\n>;\n\n")
	bw.WriteString("/**\n * AppRouter's streaming queries typed as the subscriptions they also are over wsLink and\n" +
		" * httpSubscriptionLink (a tRPC procedure has one type, so AppRouter types them as queries):\n" +
		" * createTRPCClient<AppStreamRouter>(sameOptions).job.watch.subscribe(input, { onData }).\n */\n")
	fmt.Fprintf(bw, "export type AppStreamRouter = TRPCBuiltRouter<\n  { ctx: object; meta: object; errorShape: ErrorShape; transformer: %t },\n  ", g.super)
	writeTree(bw, streams, "  ")
	bw.WriteString("\n>;\n")
	for _, e := range g.enums {
		bw.WriteString("\n" + e.decl() + "\n")
	}
	for _, c := range consts {
		bw.WriteString("\n" + c + "\n")
	}
	for _, d := range g.defs {
		bw.WriteString("\n" + d + "\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write typescript: %w", err)
	}
	return nil
}

// errorShapeTS declares every field errorShape sends (errors.go); a test
// in tests/trpc-client reads each one.
const errorShapeTS = `/** zod's error.flatten(): messages about the whole input, and per top-level field. */
export interface ZodFlattenedError {
  formErrors: string[];
  fieldErrors: { [field: string]: string[] | undefined };
}

/** The error shape: tRPC's default, plus what create-t3-app's errorFormatter adds and packshot's extras. */
export interface ErrorShape extends TRPCDefaultErrorShape {
  data: TRPCDefaultErrorShape['data'] & {
    /** An input validation error's messages as zod's flatten() gives them (as a T3 app sends them); null for any other error. */
    zodError: ZodFlattenedError | null;
    /** The same field messages, one per field (dotted paths for nested fields). */
    fieldErrors?: Record<string, string>;
    /** When to retry, in seconds (TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE); also the HTTP Retry-After header. */
    retryAfterSeconds?: number;
  };
}

`

// addToTree files proc under its dotted path in tree.
func addToTree(tree map[string]any, path, proc string) error {
	node := tree
	segs := strings.Split(path, ".")
	for _, s := range segs[:len(segs)-1] {
		child, ok := node[s].(map[string]any)
		if !ok {
			if _, isProc := node[s]; isProc {
				return fmt.Errorf("write typescript: %s is both a procedure and a namespace", s)
			}
			child = map[string]any{}
			node[s] = child
		}
		node = child
	}
	if _, taken := node[segs[len(segs)-1]]; taken {
		return fmt.Errorf("write typescript: %s is both a procedure and a namespace", path)
	}
	node[segs[len(segs)-1]] = proc
	return nil
}

func writeTree(w *bufio.Writer, node map[string]any, indent string) {
	keys := make([]string, 0, len(node))
	for k := range node {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.WriteString("{\n")
	for _, k := range keys {
		w.WriteString(indent + "  " + tsKey(k) + ": ")
		switch v := node[k].(type) {
		case string:
			w.WriteString(v)
		case map[string]any:
			writeTree(w, v, indent+"  ")
		}
		w.WriteString(";\n")
	}
	w.WriteString(indent + "}")
}

var tsIdent = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

func tsKey(k string) string {
	if tsIdent.MatchString(k) {
		return k
	}
	b, _ := json.Marshal(k)
	return string(b)
}

// tsGen maps Go types to TypeScript, collecting named struct types as
// interfaces.
type tsGen struct {
	super bool
	names map[reflect.Type]string
	taken map[string]bool
	defs  []string

	// What the options add: enums and constants to declare, the TypeScript
	// types of Go types and of struct fields (by JSON name), and which of
	// those fields the generated types reached.
	enums     []tsEnum
	consts    []tsConst
	types     map[reflect.Type]string
	fields    map[reflect.Type]map[string]string
	fieldUsed map[reflect.Type]map[string]bool
	err       error
}

// TypeScriptOption adds to the module WriteTypeScript writes.
type TypeScriptOption func(*tsGen)

// TSEnum declares a string vocabulary twice: as the union type name
// (`export type ProjectStatus = "draft" | "ready";`) and as constName, the
// array of its values in the given order, for code that lists them all.
func TSEnum(name, constName, doc string, values []string) TypeScriptOption {
	return func(g *tsGen) {
		g.claim(name)
		g.claim(constName)
		if len(values) == 0 {
			g.fail(fmt.Errorf("write typescript: enum %s has no values", name))
		}
		g.enums = append(g.enums, tsEnum{name: name, constName: constName, doc: doc, values: slices.Clone(values)})
	}
}

// TSConst declares `export const name: T = value;`, where T is the
// TypeScript type of value's Go type (ReadonlyArray for a slice) (its named structs become interfaces,
// narrowed by TSType and TSField like any other) and value is written as
// encoding/json writes it. The value must be plain data: no time.Time, Map
// or other type whose wire form depends on the transformer.
func TSConst(name, doc string, value any) TypeScriptOption {
	return func(g *tsGen) {
		g.claim(name)
		g.consts = append(g.consts, tsConst{name: name, doc: doc, value: value})
	}
}

// TSType makes ts the TypeScript type of every value of Go type t, as a
// TypeScriptType method does for a type one cannot add methods to (such as
// another package's string type whose values are an enum).
func TSType(t reflect.Type, ts string) TypeScriptOption {
	return func(g *tsGen) { g.types[t] = ts }
}

// TSField makes ts the TypeScript type of the string in the field named
// jsonName (its JSON name) of struct type t: a pointer keeps its "| null" and
// a slice stays an array, so "status" of *string becomes `ts | null`.
// WriteTypeScript fails when no generated type has that field, so a renamed
// field does not lose its narrowing unnoticed.
func TSField(t reflect.Type, jsonName, ts string) TypeScriptOption {
	return func(g *tsGen) {
		if g.fields[t] == nil {
			g.fields[t] = map[string]string{}
			g.fieldUsed[t] = map[string]bool{}
		}
		g.fields[t][jsonName] = ts
	}
}

// tsEnum is a TSEnum's declaration.
type tsEnum struct {
	name, constName, doc string
	values               []string
}

func (e tsEnum) decl() string {
	lits := make([]string, len(e.values))
	for i, v := range e.values {
		b, _ := json.Marshal(v)
		lits[i] = string(b)
	}
	var b strings.Builder
	if e.doc != "" {
		fmt.Fprintf(&b, "/** %s */\n", e.doc)
	}
	fmt.Fprintf(&b, "export type %s = %s;\n\n", e.name, strings.Join(lits, " | "))
	fmt.Fprintf(&b, "/** Every %s, in the server's order. */\n", e.name)
	fmt.Fprintf(&b, "export const %s: readonly %s[] = [%s];", e.constName, e.name, strings.Join(lits, ", "))
	return b.String()
}

// tsConst is a TSConst's declaration.
type tsConst struct {
	name, doc string
	value     any
}

// constDecl declares c, adding the interfaces its type needs.
func (g *tsGen) constDecl(c tsConst) string {
	v, err := json.MarshalIndent(c.value, "", "  ")
	if err != nil {
		g.fail(fmt.Errorf("write typescript: const %s: %w", c.name, err))
		return ""
	}
	var b strings.Builder
	if c.doc != "" {
		fmt.Fprintf(&b, "/** %s */\n", c.doc)
	}
	t := reflect.TypeOf(c.value)
	ts := g.typ(t)
	if t.Kind() == reflect.Slice {
		ts = "ReadonlyArray<" + g.typ(t.Elem()) + ">"
	}
	fmt.Fprintf(&b, "export const %s: %s = %s;", c.name, ts, v)
	return b.String()
}

// claim reserves a declared name so that no struct's interface takes it.
func (g *tsGen) claim(name string) {
	if !tsIdent.MatchString(name) || g.taken[name] {
		g.fail(fmt.Errorf("write typescript: %q is not a free TypeScript name", name))
	}
	g.taken[name] = true
}

func (g *tsGen) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// check reports the first error of an option, or a TSField that no generated
// type reached.
func (g *tsGen) check() error {
	if g.err != nil {
		return g.err
	}
	var missing []string
	for t, fs := range g.fields {
		for name := range fs {
			if !g.fieldUsed[t][name] {
				missing = append(missing, t.String()+"."+name)
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("write typescript: TSField names no generated field: %s", strings.Join(missing, ", "))
	}
	return nil
}

// narrow is the TypeScript type of a field of Go type t whose strings are ts.
func (g *tsGen) narrow(t reflect.Type, ts string) string {
	switch t.Kind() {
	case reflect.Pointer:
		return g.narrow(t.Elem(), ts) + " | null"
	case reflect.Slice, reflect.Array:
		return arrayOf(g.narrow(t.Elem(), ts))
	case reflect.String:
		return ts
	}
	g.fail(fmt.Errorf("write typescript: TSField %s: %s holds no string", ts, t))
	return "unknown"
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]+`)

func (g *tsGen) typ(t reflect.Type) string {
	if ts, ok := g.types[t]; ok {
		return ts
	}
	if t.Implements(typeScriptTyper) && t.Kind() != reflect.Interface {
		return reflect.Zero(t).Interface().(TypeScriptTyper).TypeScriptType()
	}
	switch t {
	case timeType:
		if g.super {
			return "Date"
		}
		return "string"
	case bigIntType:
		if g.super {
			return "bigint"
		}
		return "number"
	case rawMessageType:
		return "unknown"
	case voidType:
		return "void"
	case formDataType:
		return "FormData"
	case blobType:
		return "Blob"
	}
	if t.Kind() == reflect.Map && t.Implements(kindedType) {
		kind := reflect.Zero(t).Interface().(superjsonKinded).superjsonKind()
		switch {
		case kind == "set" && g.super:
			return "Set<" + g.typ(t.Key()) + ">"
		case kind == "set":
			return arrayOf(g.typ(t.Key()))
		case g.super:
			return "Map<" + g.typ(t.Key()) + ", " + g.typ(t.Elem()) + ">"
		default:
			return "Record<string, " + g.typ(t.Elem()) + ">"
		}
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) {
			return "unknown"
		}
		if t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
			return "string"
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typ(t.Elem()) + " | null"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string"
		}
		return arrayOf(g.typ(t.Elem()))
	case reflect.Array:
		return arrayOf(g.typ(t.Elem()))
	case reflect.Map:
		return "Record<string, " + g.typ(t.Elem()) + ">"
	case reflect.Struct:
		if t.Name() == "" {
			return g.structBody(t, "")
		}
		return g.named(t)
	default:
		return "unknown"
	}
}

func arrayOf(elem string) string {
	if strings.ContainsAny(elem, " |&") {
		return "Array<" + elem + ">"
	}
	return elem + "[]"
}

func (g *tsGen) named(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	base := nonIdent.ReplaceAllString(t.Name(), "_")
	base = strings.Trim(base, "_")
	name := base
	for i := 2; g.taken[name]; i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	g.taken[name] = true
	g.names[t] = name
	idx := len(g.defs)
	g.defs = append(g.defs, "")
	g.defs[idx] = "export interface " + name + " " + g.structBody(t, "")
	return name
}

func (g *tsGen) structBody(t reflect.Type, indent string) string {
	var b strings.Builder
	b.WriteString("{\n")
	for _, f := range structFields(t) {
		opt := ""
		if f.omitEmpty || f.omitZero {
			opt = "?"
		}
		var ft string
		if ts, ok := g.fields[t][f.name]; ok {
			ft = g.narrow(f.typ, ts)
			g.fieldUsed[t][f.name] = true
		} else {
			ft = g.typ(f.typ)
		}
		if f.quoted {
			ft = "string"
		}
		fmt.Fprintf(&b, "%s  %s%s: %s;\n", indent, tsKey(f.name), opt, ft)
	}
	b.WriteString(indent + "}")
	return b.String()
}
