package terminal

import (
	"reflect"
	"testing"
)

func TestPickOptions(t *testing.T) {
	for _, c := range []struct {
		line   string
		multi  bool
		picked []int
		ok     bool
	}{
		{"2", false, []int{2}, true},
		{"1,3", true, []int{1, 3}, true},
		{"3 1 3", true, []int{3, 1}, true},
		{"1,3", false, nil, false}, // two numbers for one choice: text
		{"4", false, nil, true},    // the Other entry
		{"4,1", true, nil, false},  // Other with an option: text
		{"5", false, nil, false},   // out of range: text
		{"0", false, nil, false},
		{"blue please", false, nil, false},
	} {
		picked, ok := pickOptions(c.line, 3, 4, c.multi)
		if ok != c.ok || !reflect.DeepEqual(picked, c.picked) {
			t.Errorf("pickOptions(%q, multi %v) = %v, %v; want %v, %v", c.line, c.multi, picked, ok, c.picked, c.ok)
		}
	}
}
