package trpc

import (
	"math"
	"math/big"
	"testing"
	"time"
)

func TestSuperJSONSerialize(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	type withDate struct {
		At   time.Time  `json:"at"`
		Skip *time.Time `json:"skip,omitempty"`
	}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"plain value has no meta", "world", `{"json":"world"}`},
		{"Date at the root", at, `{"json":"2024-01-01T00:00:00.000Z","meta":{"v":1,"values":["Date"]}}`},
		{"Date in an object", withDate{At: at}, `{"json":{"at":"2024-01-01T00:00:00.000Z"},"meta":{"v":1,"values":{"at":["Date"]}}}`},
		{"bigint", big.NewInt(42), `{"json":"42","meta":{"v":1,"values":["bigint"]}}`},
		{"NaN and Infinity", []float64{math.NaN(), math.Inf(-1), 1.5}, `{"json":["NaN","-Infinity",1.5],"meta":{"v":1,"values":{"0":["number"],"1":["number"]}}}`},
		{"Set", Set[string]{"b": {}, "a": {}}, `{"json":["a","b"],"meta":{"v":1,"values":["set"]}}`},
		{"Map with Dates", Map[string, time.Time]{"k": at}, `{"json":[["k","2024-01-01T00:00:00.000Z"]],"meta":{"v":1,"values":["map",{"0.1":["Date"]}]}}`},
		{"keys with dots are escaped", map[string]time.Time{"a.b": at}, `{"json":{"a.b":"2024-01-01T00:00:00.000Z"},"meta":{"v":1,"values":{"a\\.b":["Date"]}}}`},
		{"nested arrays", [][]time.Time{{at}}, `{"json":[["2024-01-01T00:00:00.000Z"]],"meta":{"v":1,"values":{"0.0":["Date"]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := TransformerSuperJSON.serialize(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestJSONSerialize(t *testing.T) {
	t.Parallel()
	type out struct {
		Tags  []string          `json:"tags"`
		Attrs map[string]int    `json:"attrs"`
		Set   Set[int]          `json:"set"`
		Map   Map[string, bool] `json:"map"`
		Big   *big.Int          `json:"big"`
		Count int64             `json:"count,string"`
		Inf   float64           `json:"inf"`
	}
	got, err := TransformerJSON.serialize(out{Set: Set[int]{2: {}, 1: {}}, Big: big.NewInt(7), Count: 3, Inf: math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"tags":[],"attrs":{},"set":[1,2],"map":{},"big":7,"count":"3","inf":null}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestSuperJSONDeserialize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty is undefined", ``, ``},
		{"no meta", `{"json":{"a":1}}`, `{"a":1}`},
		{"json null is undefined", `{"json":null}`, ``},
		{"null is undefined", `null`, ``},
		{"root undefined", `{"json":null,"meta":{"values":["undefined"],"v":1}}`, ``},
		{"Date stays a string", `{"json":{"at":"2024-01-01T00:00:00.000Z"},"meta":{"values":{"at":["Date"]},"v":1}}`, `{"at":"2024-01-01T00:00:00.000Z"}`},
		{"bigint becomes a number", `{"json":{"n":"12345678901234567890"},"meta":{"values":{"n":["bigint"]}}}`, `{"n":12345678901234567890}`},
		{"undefined fields disappear", `{"json":{"a":null,"b":1},"meta":{"values":{"a":["undefined"]}}}`, `{"b":1}`},
		{"Map becomes an object", `{"json":{"m":[["k",1],["a.b",2]]},"meta":{"values":{"m":["map"]}}}`, `{"m":{"a.b":2,"k":1}}`},
		{"Set stays an array", `{"json":["a"],"meta":{"values":["set"]}}`, `["a"]`},
		{"escaped keys", `{"json":{"a.b":{"c":"1"}},"meta":{"values":{"a\\.b.c":["bigint"]},"v":1}}`, `{"a.b":{"c":1}}`},
		{"nested Map annotation", `{"json":[["k","2024-01-01T00:00:00.000Z"]],"meta":{"values":["map",{"0.1":["Date"]}],"v":1}}`, `{"k":"2024-01-01T00:00:00.000Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := TransformerSuperJSON.deserialize([]byte(tt.in), defaultMaxInputDepth)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`[1]`, `{"json":1,"meta":{"values":{"x":["Date"]}}}`, `{"json":"x","meta":{"values":["bigint"]}}`, `{"json":1,"meta":{"values":7}}`} {
		if _, err := TransformerSuperJSON.deserialize([]byte(bad), defaultMaxInputDepth); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
