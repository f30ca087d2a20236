//go:build !linux

package pluginhost

import "os/exec"

// setDeathSignal does nothing here: a worker ends when its stdin does, or
// when it sees its parent gone.
func setDeathSignal(*exec.Cmd) {}
