package pluginhost

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
)

// The worker protocol. Every message is a frame: its length (u32, big
// endian) then its payload.
//
//	host → worker, first:  hello = "HHW1" u32(memory MiB) u64(timeout ns)
//	                       str(name) str(cache dir) str(wasm)
//	worker → host:         0 schema (ready; schema may be empty)
//	                       | 1 text (the module does not load; the worker exits)
//	host → worker, then:   a call: the abi.AppendInput encoding
//	worker → host:         0 output (the guest's answer, undecoded)
//	                       | 1 text (a trap, an exit, the memory cap, an answer
//	                         too large: the instance is spoiled). A second
//	                         frame follows once the worker has a fresh
//	                         instance: 2 (ready) | 1 text (it cannot; it exits)
//
// str is a u32 (big endian) length then the bytes. The worker never reads
// its clock for a limit: the host kills it at the call's time limit.
const (
	helloMagic = "HHW1"

	statusOK    = 0
	statusFail  = 1
	statusReady = 2

	maxHello   = 1 << 30
	maxRequest = 1 << 30
	maxReply   = MaxOutput + 1<<16
)

// ServeWorker serves the host's calls for one module on r (its stdin) and w
// (its stdout) until r ends: the body of a plugin worker process (hookhub
// plugin worker; see Options.WorkerCommand). The module runs in wazero
// without the interrupt checks (at full speed) but otherwise sandboxed as in
// the host: no files, no environment, fake clocks and randomness, the memory
// cap. Nothing else may write to w. It returns nil when the host closes r,
// and exits the process when its parent goes away.
func ServeWorker(r io.Reader, w io.Writer) error {
	watchParent()
	ctx := context.Background()
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [4]byte
	hello, err := readFrame(br, hdr[:], nil, maxHello)
	if err != nil {
		return fmt.Errorf("plugin worker: reading the handshake: %w", err)
	}
	m, cacheDir, err := decodeHello(hello)
	if err != nil {
		return err
	}
	hello = nil
	var cache wazero.CompilationCache
	if cacheDir != "" {
		if cache, err = wazero.NewCompilationCacheWithDir(cacheDir); err != nil {
			return writeFrame(w, nil, statusFail, fmt.Sprintf("plugin %s: cache dir: %v", m.Name, err))
		}
	} else {
		cache = wazero.NewCompilationCache()
	}
	defer cache.Close(ctx)
	// A call at start that passes its limit cannot be interrupted here: say
	// why, and exit (the host would kill the worker at its deadline anyway).
	var mu sync.Mutex
	started := false
	hung := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if !started {
			_ = writeFrame(w, nil, statusFail, err.Error())
			os.Exit(1)
		}
	}
	m.cacheDir = cacheDir
	p, err := newPoolWith(ctx, cache, m, zerolog.Nop(), false, hung)
	mu.Lock()
	started = true
	mu.Unlock()
	if err != nil {
		return writeFrame(w, nil, statusFail, err.Error())
	}
	defer p.close(ctx)
	inst, err := p.instances.get(ctx, "", nil) // the one instance, idle
	if err != nil {
		return err
	}
	m.Wasm = nil
	out := make([]byte, 0, 64<<10)
	out = appendFrame(out[:0], statusOK, p.schema)
	if _, err := w.Write(out); err != nil {
		return err
	}
	var req []byte
	for {
		req, err = readFrame(br, hdr[:], req, maxRequest)
		if errors.Is(err, io.EOF) {
			return nil // the host is done with this worker
		}
		if err != nil {
			return fmt.Errorf("plugin worker: %w", err)
		}
		view, err := p.invokeRaw(ctx, inst, req)
		if err == nil {
			out = appendFrame(out[:0], statusOK, view)
			if _, err := w.Write(out); err != nil {
				return err
			}
			if cap(out) > 1<<20 {
				out = make([]byte, 0, 64<<10)
			}
			if cap(req) > 1<<20 {
				req = nil
			}
			continue
		}
		// The instance is spoiled: say why, then make a fresh one.
		if err := writeFrame(w, out, statusFail, err.Error()); err != nil {
			return err
		}
		_ = inst.mod.Close(ctx)
		if inst, err = p.instantiate(ctx); err != nil {
			return writeFrame(w, out, statusFail, err.Error())
		}
		if err := writeFrame(w, out, statusReady, ""); err != nil {
			return err
		}
	}
}

// watchParent exits the worker when the process that started it is gone
// (beside the death signal the host asks for on Linux, and the end of stdin).
func watchParent() {
	ppid := os.Getppid()
	if ppid <= 1 {
		return
	}
	go func() {
		for {
			time.Sleep(time.Second)
			if os.Getppid() != ppid {
				os.Exit(2)
			}
		}
	}()
}

func appendHello(dst []byte, m Module, cacheDir string) []byte {
	dst = append(dst, 0, 0, 0, 0)
	dst = append(dst, helloMagic...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.MemoryMiB))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.Timeout))
	for _, s := range [][]byte{[]byte(m.Name), []byte(cacheDir), m.Wasm} {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	binary.BigEndian.PutUint32(dst, uint32(len(dst)-4))
	return dst
}

func decodeHello(b []byte) (m Module, cacheDir string, err error) {
	bad := errors.New("plugin worker: malformed handshake")
	if len(b) < len(helloMagic)+12 || string(b[:len(helloMagic)]) != helloMagic {
		return m, "", bad
	}
	b = b[len(helloMagic):]
	m.MemoryMiB = int(binary.BigEndian.Uint32(b))
	m.Timeout = time.Duration(binary.BigEndian.Uint64(b[4:]))
	b = b[12:]
	var fields [3][]byte
	for i := range fields {
		if len(b) < 4 || uint64(binary.BigEndian.Uint32(b)) > uint64(len(b)-4) {
			return m, "", bad
		}
		n := binary.BigEndian.Uint32(b)
		fields[i], b = b[4:4+n], b[4+n:]
	}
	if len(b) != 0 || m.MemoryMiB <= 0 {
		return m, "", bad
	}
	m.Name, cacheDir, m.Wasm = string(fields[0]), string(fields[1]), fields[2]
	m.Instances = 1
	if m.Timeout <= 0 {
		m.Timeout = DefaultTimeout
	}
	return m, cacheDir, nil
}

// appendFrame appends a frame of a status byte and b to dst.
func appendFrame(dst []byte, status byte, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(1+len(b)))
	dst = append(dst, status)
	return append(dst, b...)
}

// writeFrame writes a frame of a status byte and a text, in one write.
func writeFrame(w io.Writer, buf []byte, status byte, text string) error {
	buf = binary.BigEndian.AppendUint32(buf[:0], uint32(1+len(text)))
	buf = append(buf, status)
	buf = append(buf, text...)
	_, err := w.Write(buf)
	return err
}

var errFrame = errors.New("a frame of a length out of bounds")

// readFrame reads one frame's payload into buf (grown as needed); hdr is
// four bytes of scratch.
func readFrame(r *bufio.Reader, hdr, buf []byte, limit int) ([]byte, error) {
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr)
	if n == 0 || uint64(n) > uint64(limit) {
		return nil, errFrame
	}
	if cap(buf) >= int(n) {
		buf = buf[:n]
	} else {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
