package benchmark

import (
	"bytes"
	"io"
	"runtime/pprof"

	"github.com/google/pprof/profile"
)

// cpuSplit tells the hub's CPU from the bench's own: the receivers' and the
// publisher's goroutines carry the pprof label "bench" (a goroutine inherits
// its creator's labels, so the servers' connection goroutines and the
// publishing HTTP clients' do too), and a CPU profile of the run, sampled at
// 100 Hz, gives each label's share of this process's samples. Everything
// unlabelled is the hub: its delivery engine, router, embedded NATS server
// and the Go runtime's own work (garbage collection of everyone's garbage
// included, which leans the split towards the hub).
type cpuSplit struct {
	buf bytes.Buffer
	on  bool
}

// start profiles the run; when a profile is already running (the bench's
// own --cpuprofile does not, but an embedding program might) the split is
// not measured.
func (c *cpuSplit) start() {
	c.on = pprof.StartCPUProfile(&c.buf) == nil
}

// stop ends the profile, writes it to out (if any) and returns the share of
// samples by label value ("" for the hub); ok is false when there was no
// profile or no sample.
func (c *cpuSplit) stop(out io.Writer) (shares map[string]float64, ok bool) {
	if !c.on {
		return nil, false
	}
	pprof.StopCPUProfile()
	if out != nil {
		_, _ = out.Write(c.buf.Bytes())
	}
	p, err := profile.Parse(bytes.NewReader(c.buf.Bytes()))
	if err != nil || len(p.SampleType) == 0 {
		return nil, false
	}
	vi := len(p.SampleType) - 1 // cpu nanoseconds
	by := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[vi]
		by[firstLabel(s.Label["bench"])] += v
		total += v
	}
	if total == 0 {
		return nil, false
	}
	shares = map[string]float64{}
	for k, v := range by {
		shares[k] = float64(v) / float64(total)
	}
	return shares, true
}

func firstLabel(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
