package pluginhost

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// reasonTimeLimit is why a call that ran past its time limit failed.
const reasonTimeLimit = "exceeded its time limit"

// callError is a failed call, worded for the operator ("plugin NAME: why").
type callError struct {
	msg     string
	timeout bool
}

func (e *callError) Error() string { return e.msg }

// Timeout reports whether the call ran out of time: its time limit, or
// starting an instance in time. A later call may well succeed (under less
// CPU contention, or with a guest whose run time varies), so it says so as a
// net.Error does, and the delivery engine retries it like a 5xx instead of
// dead-lettering it at once.
func (e *callError) Timeout() bool { return e.timeout }

// errTimeLimit is the failure of a call that ran past its time limit.
func errTimeLimit(name string) error {
	return &callError{msg: "plugin " + name + ": " + reasonTimeLimit, timeout: true}
}

// trapError says why a call into the guest (what: "alloc: ", or "" for the
// transform) failed; see describeTrap.
func trapError(name, what string, err error, mod api.Module, stderr *limitedBuffer, ctx context.Context) error {
	reason := describeTrap(err, mod, stderr, ctx)
	return &callError{msg: "plugin " + name + ": " + what + reason, timeout: reason == reasonTimeLimit}
}
