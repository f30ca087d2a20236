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
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	type sample struct {
		value     int64
		labels    [][2]int64 // key, string
		hasValues bool
	}
	var samples []sample
	var strs []string
	bad := errors.New("cpu profile: not a profile")
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, bad
		}
		b = b[n:]
		if typ != protowire.BytesType || (num != 2 && num != 6) {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return nil, bad
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, bad
		}
		b = b[n:]
		if num == 6 {
			strs = append(strs, string(v))
			continue
		}
		var s sample
		for len(v) > 0 {
			f, t, n := protowire.ConsumeTag(v)
			if n < 0 {
				return nil, bad
			}
			v = v[n:]
			switch {
			case f == 2 && t == protowire.BytesType: // packed values: the last is CPU
				packed, n := protowire.ConsumeBytes(v)
				if n < 0 {
					return nil, bad
				}
				v = v[n:]
				for len(packed) > 0 {
					x, n := protowire.ConsumeVarint(packed)
					if n < 0 {
						return nil, bad
					}
					packed = packed[n:]
					s.value, s.hasValues = int64(x), true
				}
			case f == 2 && t == protowire.VarintType:
				x, n := protowire.ConsumeVarint(v)
				if n < 0 {
					return nil, bad
				}
				v = v[n:]
				s.value, s.hasValues = int64(x), true
			case f == 3 && t == protowire.BytesType:
				l, n := protowire.ConsumeBytes(v)
				if n < 0 {
					return nil, bad
				}
				v = v[n:]
				var kv [2]int64
				for len(l) > 0 {
					lf, lt, n := protowire.ConsumeTag(l)
					if n < 0 {
						return nil, bad
					}
					l = l[n:]
					if (lf == 1 || lf == 2) && lt == protowire.VarintType {
						x, n := protowire.ConsumeVarint(l)
						if n < 0 {
							return nil, bad
						}
						l = l[n:]
						kv[lf-1] = int64(x)
						continue
					}
					if n = protowire.ConsumeFieldValue(lf, lt, l); n < 0 {
						return nil, bad
					}
					l = l[n:]
				}
				s.labels = append(s.labels, kv)
			default:
				if n = protowire.ConsumeFieldValue(f, t, v); n < 0 {
					return nil, bad
				}
				v = v[n:]
			}
		}
		if s.hasValues {
			samples = append(samples, s)
		}
	}
	str := func(i int64) string {
		if i < 0 || i >= int64(len(strs)) {
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
