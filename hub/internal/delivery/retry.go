package delivery

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// MaxRetryAfter caps how long a receiver's Retry-After can hold a job.
const MaxRetryAfter = 24 * time.Hour

// ErrPermanent marks a failure that no retry can mend: the job goes to the
// dead-letter stream at once.
var ErrPermanent = errors.New("permanent failure")

// errDisabled is the permanent failure of a job whose webhook the hub disabled.
var errDisabled = fmt.Errorf("%w (disabled)", ErrPermanent)

// AttemptError is a failed attempt.
type AttemptError struct {
	Status     int           // HTTP status, 0 when no response came
	RetryAfter time.Duration // the receiver's Retry-After, if any
	Timeout    bool          // no answer in time
	Err        error
}

func (e *AttemptError) Error() string { return e.Err.Error() }
func (e *AttemptError) Unwrap() error { return e.Err }

// backoff is the delay before retry n (1-based) by schedule, with jitter, and
// never less than the receiver asked for with Retry-After.
func backoff(schedule []time.Duration, jitter float64, n int, retryAfter time.Duration) time.Duration {
	d := schedule[min(n, len(schedule))-1]
	if jitter > 0 && d > 0 {
		d = time.Duration(float64(d) * (1 + jitter*(2*rand.Float64()-1)))
	}
	return max(d, min(retryAfter, MaxRetryAfter))
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return min(time.Duration(s)*time.Second, MaxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}
