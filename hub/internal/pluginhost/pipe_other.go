//go:build !linux

package pluginhost

import "os"

// blockingPipe is os.Pipe here (through the runtime's poller); the worker's
// death ends a read or write under way all the same.
func blockingPipe() (r, w *os.File, err error) { return os.Pipe() }
