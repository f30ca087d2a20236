package pluginhost

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is what a WebAssembly plugin's instances hold (hookhub plugin
// bench reports it).
type Memory struct {
	// GuestPages is the largest linear memory of its idle in-process
	// instances, in 64 KiB pages (0 when it runs in workers).
	GuestPages uint32
	// WorkerRSS is the largest resident set of its worker processes, in
	// bytes (0 when it runs in the host's process, or where /proc is not).
	WorkerRSS int64
}

// Memory reports a loaded WebAssembly plugin's memory; ok is false for an
// unknown or native plugin.
func (h *Host) Memory(name string) (m Memory, ok bool) {
	h.mu.RLock()
	e := h.plugins[name]
	h.mu.RUnlock()
	if e == nil || e.wasm == nil {
		return m, false
	}
	switch r := e.wasm.(type) {
	case *pool:
		r.instances.mu.Lock()
		for _, inst := range r.instances.idle {
			m.GuestPages = max(m.GuestPages, inst.mod.Memory().Size()/65536)
		}
		r.instances.mu.Unlock()
	case *procPool:
		r.mu.Lock()
		for w := range r.live {
			if w.cmd.Process != nil {
				rss, _ := processRSS(w.cmd.Process.Pid)
				m.WorkerRSS = max(m.WorkerRSS, rss)
			}
		}
		r.mu.Unlock()
	}
	return m, true
}

// processRSS reads a process's resident set from /proc (Linux).
func processRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
