package benchmark

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// TestCPUByLabel checks the bench's own reading of a CPU profile against
// github.com/google/pprof/profile's, on a real profile of goroutines that
// burn CPU under two values of the label and without it.
func TestCPUByLabel(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skip("a CPU profile is already running:", err)
	}
	burn := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); {
		}
	}
	done := make(chan struct{})
	for _, v := range []string{"receivers", "publisher"} {
		go pprof.Do(context.Background(), pprof.Labels("bench", v, "other", "x"), func(context.Context) {
			burn(300 * time.Millisecond)
			done <- struct{}{}
		})
	}
	burn(300 * time.Millisecond)
	<-done
	<-done
	pprof.StopCPUProfile()

	got, err := cpuByLabel(buf.Bytes(), "bench")
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, s := range p.Sample {
		label := ""
		if v := s.Label["bench"]; len(v) > 0 {
			label = v[0]
		}
		want[label] += s.Value[len(p.SampleType)-1]
	}
	if len(want) != 3 {
		t.Fatalf("the profile has samples under %d values of the label, want 3 (a slow machine?): %v", len(want), want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %q: %d ns, want %d", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := cpuByLabel([]byte("not a profile"), "bench"); err == nil {
		t.Error("no error for a file that is not a profile")
	}
	// The profile with a sample cut short at its end: field 2, 127 bytes
	// announced, one given.
	zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var cut bytes.Buffer
	zw := gzip.NewWriter(&cut)
	_, _ = zw.Write(append(raw, 0x12, 0x7f, 0x08))
	_ = zw.Close()
	if _, err := cpuByLabel(cut.Bytes(), "bench"); err == nil {
		t.Error("no error for a profile cut short")
	}
}
