package pluginhost

import (
	"os"
	"syscall"
)

// blockingPipe is a pipe whose ends do blocking I/O: os.Pipe's go through
// the runtime's poller, a park and a wake-up per read, which cost a worker
// call more CPU than the read itself. The worker's death (see
// worker.arm) ends a read or write under way.
func blockingPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}
