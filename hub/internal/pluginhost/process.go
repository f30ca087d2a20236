package pluginhost

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/sdk/abi"
)

// procPool runs one module in worker processes (the process isolation), one
// call at a time each, up to Module.Instances of them. A call's time limit
// is the host's: at the limit it kills the worker, which runs the guest
// without interrupt checks.
type procPool struct {
	m           Module
	argv, env   []string
	hello       []byte // the handshake frame
	initTimeout time.Duration
	schema      []byte
	log         zerolog.Logger

	pool bounded[*worker]

	mu     sync.Mutex
	live   map[*worker]struct{}
	closed bool
}

// worker is one worker process.
type worker struct {
	p       *procPool
	cmd     *exec.Cmd
	in, out *os.File // its stdin (written), its stdout (read)
	rd      *bufio.Reader
	hdr     [4]byte
	req     []byte
	stderr  *limitedBuffer
	dec     abi.OutputDecoder // its answers' strings, reused while they repeat
	// timer kills the worker at the deadline of the I/O under way (see
	// arm): the I/O is blocking, so the end of the pipe ends it.
	timer    *time.Timer
	expired  atomic.Bool // the timer, or the call's context, killed it
	tainted  bool        // a kill may still come: never reuse it
	exited   chan struct{}
	waitErr  error // set before exited closes
	killOnce sync.Once
}

func newProcPool(ctx context.Context, m Module, argv, env []string, cacheDir string, log zerolog.Logger) (*procPool, error) {
	p := &procPool{m: m, argv: argv, env: env, hello: appendHello(nil, m, cacheDir),
		initTimeout: max(m.Timeout*10, defaultInitTimeout), log: log,
		pool: newBounded[*worker](m.Name, m.Instances),
		live: map[*worker]struct{}{}}
	// One worker now: it compiles the module (filling the cache for the
	// next ones), checks the ABI and reads the schema. Compiling may take
	// longer than starting from the cache (the js engine's 19 MB take about
	// 2 minutes cold on 2 busy cores).
	deadline := time.Now().Add(max(p.initTimeout, 5*time.Minute))
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	w, schema, err := p.spawn(deadline)
	if err != nil {
		return nil, err
	}
	p.schema = schema
	p.pool.add(w)
	return p, nil
}

// spawn starts a worker and hands it the module.
func (p *procPool) spawn(deadline time.Time) (*worker, []byte, error) {
	name := p.m.Name
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	// Only what the host was given for workers, never its own environment
	// (the API token, the secrets a config reads with ${env:}): a non-nil
	// empty Env is an empty environment.
	cmd.Env = append([]string{}, p.env...)
	setDeathSignal(cmd)
	inR, inW, err := blockingPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("plugin %s: worker process: %w", name, err)
	}
	outR, outW, err := blockingPipe()
	if err != nil {
		_, _ = inR.Close(), inW.Close()
		return nil, nil, fmt.Errorf("plugin %s: worker process: %w", name, err)
	}
	w := &worker{p: p, cmd: cmd, in: inW, out: outR, rd: bufio.NewReaderSize(outR, 64<<10),
		stderr: &limitedBuffer{max: 4096}, exited: make(chan struct{})}
	w.timer = time.AfterFunc(time.Hour, w.expire)
	w.timer.Stop()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, w.stderr
	err = cmd.Start()
	_, _ = inR.Close(), outW.Close()
	if err != nil {
		_, _ = inW.Close(), outR.Close()
		return nil, nil, fmt.Errorf("plugin %s: starting its worker process %q: %w", name, p.argv[0], err)
	}
	go func() {
		w.waitErr = cmd.Wait()
		close(w.exited)
	}()
	p.mu.Lock()
	closed := p.closed
	if !closed {
		p.live[w] = struct{}{}
	}
	p.mu.Unlock()
	if closed {
		w.kill()
		return nil, nil, fmt.Errorf("plugin %s: the host is closed", name)
	}

	w.arm(deadline)
	_, err = w.in.Write(p.hello)
	var reply []byte
	if err == nil {
		reply, err = readFrame(w.rd, w.hdr[:], nil, maxReply)
	}
	if w.disarm() && err == nil {
		err = os.ErrDeadlineExceeded // it answered, but is killed
	}
	if err != nil {
		err = w.ioErr(err)
	}
	switch {
	case err != nil:
		w.kill()
		return nil, nil, w.notStarted(err)
	case reply[0] == statusOK:
		return w, reply[1:], nil
	case reply[0] == statusFail:
		w.kill()
		return nil, nil, errors.New(string(reply[1:]))
	default:
		w.kill()
		return nil, nil, fmt.Errorf("plugin %s: its worker process answered the handshake with garbage", name)
	}
}

// notStarted is the failure of a worker that did not answer its handshake:
// in time (a timeout, which a later call may not meet), or at all.
func (w *worker) notStarted(err error) error {
	return &callError{msg: fmt.Sprintf("plugin %s: its worker process did not start%s", w.p.m.Name, w.why(err)),
		timeout: errors.Is(err, os.ErrDeadlineExceeded)}
}

// arm kills the worker at deadline, unless disarm comes first: every read
// and write with a worker is blocking (a plain system call, without the
// runtime's poller, which costs more per call), and the worker's death ends
// it.
func (w *worker) arm(deadline time.Time) { w.timer.Reset(time.Until(deadline)) }

// disarm stops what arm started, and reports whether it fired (the worker
// is dead or dying).
func (w *worker) disarm() (fired bool) { return !w.timer.Stop() }

// expire kills the worker at its deadline (or when the call's context ends).
func (w *worker) expire() {
	w.expired.Store(true)
	w.kill()
}

// ioErr is the failure of I/O with the worker: os.ErrDeadlineExceeded when
// expire killed it.
func (w *worker) ioErr(err error) error {
	if w.expired.Load() {
		return os.ErrDeadlineExceeded
	}
	return err
}

// kill ends the worker; it is safe at any time, more than once.
func (w *worker) kill() {
	w.killOnce.Do(func() {
		_ = w.cmd.Process.Kill()
		_ = w.in.Close()
		_ = w.out.Close()
		w.p.mu.Lock()
		delete(w.p.live, w)
		w.p.mu.Unlock()
	})
}

// why says why I/O with a worker failed: how it exited, and what it printed.
func (w *worker) why(err error) string {
	var s string
	select {
	case <-w.exited:
		if w.waitErr != nil {
			s = w.waitErr.Error()
		} else {
			s = "exited"
		}
	case <-time.After(200 * time.Millisecond):
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s = "no answer in time"
		} else {
			s = err.Error()
		}
	}
	if errors.Is(err, errFrame) {
		s = "answered garbage"
	}
	if e := strings.TrimSpace(firstLine(string(w.stderr.Bytes()))); e != "" {
		s += "; stderr: " + e
	}
	return " (" + s + ")"
}

// get takes an idle worker for a call of webhook, or starts one if the bound
// and the webhook's share allow, or waits.
func (p *procPool) get(ctx context.Context, webhook string) (*worker, error) {
	return p.pool.get(ctx, webhook, func() (*worker, error) {
		w, _, err := p.spawn(time.Now().Add(p.initTimeout))
		return w, err
	})
}

// put returns webhook's healthy worker to the pool, or kills a spoiled one
// and frees its slot for a fresh one.
func (p *procPool) put(webhook string, w *worker, spoiled bool) {
	p.pool.put(webhook, w, spoiled, (*worker).kill)
}

// call runs one transform in a worker with the module's time limit.
func (p *procPool) call(ctx context.Context, in *abi.Input) (*abi.Output, error) {
	key := in.Webhook
	w, err := p.get(ctx, key)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(p.m.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	name := p.m.Name
	if err := ctx.Err(); err != nil {
		p.put(key, w, false)
		if errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("plugin %s: cancelled", name)
		}
		return nil, errTimeLimit(name)
	}
	reply, err := w.roundTrip(ctx, in, deadline)
	if err != nil {
		p.put(key, w, true)
		return nil, err
	}
	switch reply[0] {
	case statusOK:
		out, err := decodeOutput(name, &w.dec, reply[1:])
		var ge *abi.GuestError
		if err != nil {
			// A guest's own error leaves it sound; a malformed answer spoils it.
			if errors.As(err, &ge) {
				p.put(key, w, w.tainted)
				return nil, fmt.Errorf("plugin %s: %s", name, ge.Msg)
			}
			p.put(key, w, true)
			return nil, err
		}
		p.put(key, w, w.tainted)
		return out, checkOutput(name, out)
	case statusFail:
		if w.tainted {
			p.put(key, w, true)
		} else {
			go p.awaitReady(key, w)
		}
		return nil, errors.New(string(reply[1:]))
	default:
		p.put(key, w, true)
		return nil, fmt.Errorf("plugin %s: its worker process answered garbage (status %d)", name, reply[0])
	}
}

// awaitReady waits for a worker to replace its spoiled instance.
func (p *procPool) awaitReady(key string, w *worker) {
	w.arm(time.Now().Add(p.initTimeout))
	reply, err := readFrame(w.rd, w.hdr[:], nil, maxReply)
	if w.disarm() {
		err = w.ioErr(err)
		if err == nil {
			err = os.ErrDeadlineExceeded // it answered, but was killed
		}
	}
	ok := err == nil && len(reply) == 1 && reply[0] == statusReady
	if !ok {
		msg := "no fresh instance"
		if err == nil && reply[0] == statusFail {
			msg = string(reply[1:])
		}
		p.log.Warn().Str("plugin", p.m.Name).Str("reason", msg).Msg("plugin worker replaced")
	}
	p.put(key, w, !ok)
}

// roundTrip sends one call and reads its answer, by the deadline.
func (w *worker) roundTrip(ctx context.Context, in *abi.Input, deadline time.Time) ([]byte, error) {
	w.req = abi.AppendInput(append(w.req[:0], 0, 0, 0, 0), in)
	binary.BigEndian.PutUint32(w.req, uint32(len(w.req)-4))
	w.arm(deadline)
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, w.expire)
	}
	_, err := w.in.Write(w.req)
	if cap(w.req) > 1<<20 {
		w.req = nil
	}
	var reply []byte
	if err == nil {
		reply, err = readFrame(w.rd, w.hdr[:], nil, maxReply)
	}
	fired := w.disarm()
	if stop != nil && !stop() {
		fired = true // the context ended meanwhile
	}
	if fired {
		// The deadline passed or the context ended as the answer came:
		// the worker is killed, or may be.
		w.tainted = true
	}
	if err == nil {
		return reply, nil
	}
	err = w.ioErr(err)
	name := w.p.m.Name
	if errors.Is(err, os.ErrDeadlineExceeded) {
		w.kill() // at once: it may be running still
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, fmt.Errorf("plugin %s: cancelled", name)
		}
		return nil, errTimeLimit(name)
	}
	return nil, fmt.Errorf("plugin %s: its worker process failed%s", name, w.why(err))
}

// close kills every worker, and waits a little for them to be gone.
func (p *procPool) close(context.Context) {
	p.mu.Lock()
	p.closed = true
	ws := make([]*worker, 0, len(p.live))
	for w := range p.live {
		ws = append(ws, w)
	}
	p.mu.Unlock()
	for _, w := range ws {
		w.kill()
	}
	timeout := time.After(5 * time.Second)
	for _, w := range ws {
		select {
		case <-w.exited:
		case <-timeout:
			return
		}
	}
}
