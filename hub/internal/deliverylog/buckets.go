package deliverylog

import (
	"context"
	"strconv"
	"time"
)

// MaxBuckets bounds the buckets of one Buckets call.
const MaxBuckets = 288

// Buckets implements Reader: one webhook's attempts by outcome in n
// consecutive buckets of width step, the last ending at until. Test sends
// are not counted. Each bucket costs two binary searches of the index.
func (j *JetStream) Buckets(ctx context.Context, account, webhook string, until time.Time, step time.Duration, n int) ([]Counts, error) {
	if step <= 0 || n <= 0 || n > MaxBuckets {
		return nil, &BadQuery{Field: "bucket", Msg: "a bucket must be longer than 0 and at most " + strconv.Itoa(MaxBuckets) + " buckets asked"}
	}
	t := j.attempts
	if err := t.sync(ctx); err != nil {
		return nil, err
	}
	out := make([]Counts, n)
	x := t.idx
	x.mu.RLock()
	defer x.mu.RUnlock()
	s := x.series[seriesKey{account, webhook}]
	if s == nil {
		return out, nil
	}
	start := until.Add(-time.Duration(n) * step)
	from := x.counts(s, start.UnixNano())
	for i := range out {
		to := x.counts(s, start.Add(time.Duration(i+1)*step).UnixNano())
		var c [nOut]int
		for o := range c {
			c[o] = from[o] - to[o]
		}
		out[i] = Counts{Delivered: c[outDelivered], Retrying: c[outRetrying], DeadLettered: c[outDead], Skipped: c[outSkipped]}
		from = to
	}
	return out, nil
}
