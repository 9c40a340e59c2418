package jsondepth

import (
	"strings"
	"testing"
)

func TestMember(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	for _, c := range []struct{ json, key, want string }{
		{`{"jsonrpc":"2.0","id":7,"method":"x"}`, "id", "7"},
		{`{"params":` + deep + `,"id":"a\"b"}`, "id", `"a\"b"`},
		{`{"params":{"id":1},"id":-2.5e3}`, "id", "-2.5e3"},
		{`{"params":{"id":1}}`, "id", ""},
		{`{"i\u0064":3}`, "id", "3"},
		{`{"id":null}`, "id", ""},
		{`{"id":{"x":1}}`, "id", ""},
		{`[{"id":1}]`, "id", ""},
		{`{"a":"}","id":9}`, "id", "9"},
		{`{"id":"unterminated`, "id", ""},
	} {
		if got := string(Member([]byte(c.json), c.key)); got != c.want {
			t.Errorf("Member(%.60s, %q) = %q, want %q", c.json, c.key, got, c.want)
		}
	}
}
