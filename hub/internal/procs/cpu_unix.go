//go:build unix

package procs

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) of every thread of this
// process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
