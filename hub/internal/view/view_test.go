package view

import "testing"

func TestString(t *testing.T) {
	for _, b := range [][]byte{nil, {}, []byte(`{"a":1}`)} {
		if got := String(b); got != string(b) {
			t.Errorf("String(%q) = %q", b, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = String([]byte(`{"type":"x"}`)[:5]) }); n != 0 {
		t.Errorf("String allocates %v times", n)
	}
}
