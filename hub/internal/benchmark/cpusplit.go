package benchmark

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"runtime/pprof"

	"google.golang.org/protobuf/encoding/protowire"
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
	by, err := cpuByLabel(c.buf.Bytes(), "bench")
	if err != nil {
		return nil, false
	}
	var total int64
	for _, v := range by {
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

// cpuByLabel sums a CPU profile's samples (their last value: CPU
// nanoseconds) by the value of the label key, "" for samples without it.
// It reads the profile's protocol buffer itself (profile.proto: a sample is
// field 2, with its values in 2 and labels in 3; a label's key and string
// are 1 and 2, indexes into the string table, field 6):
// github.com/google/pprof/profile, which did this here, compiles regular
// expressions in its package's init, 2.6 ms of every hookhub command's
// start (hookhub plugin run's included).
func cpuByLabel(gz []byte, key string) (map[string]int64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	type sample struct {
		value  int64
		labels [][2]uint64 // key, string
	}
	var samples []sample
	var strs []string
	for p := (pb{b: raw}); p.more(); {
		switch num, typ := p.tag(); {
		case num == 6 && typ == protowire.BytesType:
			strs = append(strs, string(p.bytes()))
		case num == 2 && typ == protowire.BytesType:
			var s sample
			values := false
			for q := (pb{b: p.bytes()}); q.more(); {
				switch f, t := q.tag(); {
				case f == 2 && t == protowire.BytesType: // packed values: the last is CPU
					v := pb{b: q.bytes()}
					for v.more() {
						s.value, values = int64(v.varint()), true
					}
					q.bad = q.bad || v.bad
				case f == 2 && t == protowire.VarintType:
					s.value, values = int64(q.varint()), true
				case f == 3 && t == protowire.BytesType:
					var kv [2]uint64
					l := pb{b: q.bytes()}
					for l.more() {
						if lf, lt := l.tag(); (lf == 1 || lf == 2) && lt == protowire.VarintType {
							kv[lf-1] = l.varint()
						} else {
							l.field(lf, lt)
						}
					}
					q.bad = q.bad || l.bad
					s.labels = append(s.labels, kv)
				default:
					q.field(f, t)
				}
				if q.bad {
					return nil, errNotProfile
				}
			}
			if values {
				samples = append(samples, s)
			}
		default:
			p.field(num, typ)
		}
		if p.bad {
			return nil, errNotProfile
		}
	}
	str := func(i uint64) string {
		if i >= uint64(len(strs)) {
			return ""
		}
		return strs[i]
	}
	by := map[string]int64{}
	for _, s := range samples {
		label := ""
		for _, kv := range s.labels {
			if str(kv[0]) == key {
				label = str(kv[1])
				break
			}
		}
		by[label] += s.value
	}
	return by, nil
}

var errNotProfile = errors.New("cpu profile: not a profile")

// pb reads a protocol buffer's fields (protowire), remembering a malformed
// one in bad.
type pb struct {
	b   []byte
	bad bool
}

func (p *pb) more() bool { return !p.bad && len(p.b) > 0 }

func (p *pb) next(n int) {
	if n < 0 {
		p.b, p.bad = nil, true
		return
	}
	p.b = p.b[n:]
}

func (p *pb) tag() (protowire.Number, protowire.Type) {
	num, typ, n := protowire.ConsumeTag(p.b)
	p.next(n)
	return num, typ
}

func (p *pb) varint() uint64 {
	v, n := protowire.ConsumeVarint(p.b)
	p.next(n)
	return v
}

func (p *pb) bytes() []byte {
	v, n := protowire.ConsumeBytes(p.b)
	p.next(n)
	return v
}

func (p *pb) field(num protowire.Number, typ protowire.Type) {
	p.next(protowire.ConsumeFieldValue(num, typ, p.b))
}
