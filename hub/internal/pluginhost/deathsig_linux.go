package pluginhost

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill a worker when the hub dies, even when
// the worker is busy in guest code and does not read its stdin.
//
// Linux sends the signal when the thread that started the worker exits; the
// Go runtime does not end its threads (short of a goroutine that exits
// locked to one), and a worker killed early is replaced like any other.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
