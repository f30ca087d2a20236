package benchmark

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/hookhub/hookhub/hub/internal/bus"
	"github.com/hookhub/hookhub/hub/internal/delivery"
)

// BenchmarkFloor measures what the parts every delivery needs cost with no
// hub logic, on this machine: the floor under `hookhub bench`'s
// cpu_us_per_delivery and under the targets set against it (README, "What
// bounds it", "The floor, measured"). Each case's peer (a publisher, a receiver, an API client)
// runs in a process of its own, this test binary again (TestFloorPeer), so
// that cpu-µs/event counts this process alone (getrusage), as the bench's
// hub share leaves out its publisher and receivers.
//
//   - jetstream/...: the hub's own streams (bus.Setup, with its keepers).
//     The peer publishes 1 KiB events asynchronously over TCP loopback, one
//     per message or 100 in one. A reader on the router's consumer takes
//     each message and acks it (cycle). As the case says, it also writes
//     each event's archived copy (bus.ArchiveMsg, under the archive's
//     de-duplication window), or its id alone under that window, and an
//     attempt record (delivery.Attempt, about 470 bytes) per event or per
//     message, which a reader follows as the delivery log's index does. It
//     writes them asynchronously and acks without waiting for their acks,
//     which the hub may not do: a cheaper use than the hub's own.
//   - https-post/...: this process POSTs 1 KiB over TLS (HTTP/1.1,
//     keep-alive, 16 connections, opened before the clock: serve's
//     per-webhook default) to the peer's receiver: a delivery's request,
//     sender's side.
//   - api-request/...: the peer POSTs 1 KiB events (32 connections, as
//     `hookhub bench --publish api`) to a plain net/http server here that
//     reads them and answers 202: what one request costs a server before
//     any handler work.
//
// The 500/s cases run on one P, as `procs: adaptive` runs the hub at that
// load; the others on two. Bound each case by count:
//
//	go test ./hub/internal/benchmark -run '^$' -bench Floor -benchtime 20000x
func BenchmarkFloor(b *testing.B) {
	for _, c := range []floorCase{
		{name: "jetstream/single/max/cycle", batch: 1, procs: 2},
		{name: "jetstream/single/max/cycle+archive", batch: 1, procs: 2, writes: archive},
		{name: "jetstream/single/max/cycle+archive+record", batch: 1, procs: 2, writes: recordPerEvent},
		{name: "jetstream/single/500-per-s/idle", batch: 1, rate: 500, procs: 1, storeOnly: true, idle: true},
		{name: "jetstream/single/500-per-s/store", batch: 1, rate: 500, procs: 1, storeOnly: true},
		{name: "jetstream/single/500-per-s/cycle", batch: 1, rate: 500, procs: 1},
		{name: "jetstream/single/500-per-s/cycle+archive+record", batch: 1, rate: 500, procs: 1, writes: recordPerEvent},
		{name: "jetstream/batch-100/max/cycle", batch: 100, procs: 2},
		{name: "jetstream/batch-100/max/cycle+id", batch: 100, procs: 2, writes: idOnly},
		{name: "jetstream/batch-100/max/cycle+archive", batch: 100, procs: 2, writes: archive},
		{name: "jetstream/batch-100/max/cycle+archive+record-per-request", batch: 100, procs: 2, writes: recordPerMessage},
		{name: "jetstream/batch-100/max/cycle+archive+records", batch: 100, procs: 2, writes: recordPerEvent},
		{name: "https-post/max", http: "post", procs: 2},
		{name: "https-post/500-per-s", http: "post", rate: 500, procs: 1},
		{name: "api-request/500-per-s", http: "api", rate: 500, procs: 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.procs))
			if c.http != "" {
				httpFloor(b, c)
			} else {
				jetStreamFloor(b, c)
			}
		})
	}
}

// What the router of a jetstream case writes for each message it takes.
const (
	nothing          = iota
	idOnly           // each event's id alone under the archive's window: de-duplication by id across hubs, no copy
	archive          // each event's archived copy
	recordPerMessage // and one attempt record per message (a batched request's)
	recordPerEvent   // and one attempt record per event
)

type floorCase struct {
	name        string
	batch, rate int // events per message; events/s (0: as fast as possible)
	procs       int
	writes      int
	// storeOnly has the events stored and nothing read: the publisher's
	// share of the server alone.
	storeOnly bool
	// idle publishes nothing for as long as the events would take: what
	// the hub's streams and consumers cost with no events, per event that
	// could have come.
	idle bool
	// http: "post" (this process sends) or "api" (this process answers).
	http string
}

// floorPeer is what TestFloorPeer is asked to be, in floorPeerEnv.
type floorPeer struct {
	Role    string // publish, receive or api-client
	URL     string // the NATS server or the API to use
	Subject string // publish: the events' subject
	Cert    string // receive: where to write its certificate (PEM)
	N       int    // messages or requests
	Batch   int    // events per message
	Rate    int    // events/s (0: as fast as possible)
	Idle    bool   // tick without publishing
}

const floorPeerEnv = "HOOKHUB_FLOOR_PEER"

// startPeer starts this test binary as TestFloorPeer and waits for its
// first line (ready, or the receiver's URL). Writing a line to go starts
// its work; its next line says it is done.
func startPeer(b *testing.B, p floorPeer) (first string, goAhead func(), done func()) {
	cfg, _ := json.Marshal(p)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFloorPeer$", "-test.count=1")
	cmd.Env = append(os.Environ(), floorPeerEnv+"="+string(cfg))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	lines := bufio.NewScanner(out)
	line := func(want string) string {
		if !lines.Scan() || want != "" && lines.Text() != want {
			b.Fatalf("floor peer %s: %q, %v", p.Role, lines.Text(), lines.Err())
		}
		return lines.Text()
	}
	first = line("")
	return first, func() { fmt.Fprintln(in, "go") }, func() { line("done") }
}

// TestFloorPeer is BenchmarkFloor's peer, run as a process of its own;
// without floorPeerEnv it is skipped.
func TestFloorPeer(t *testing.T) {
	v := os.Getenv(floorPeerEnv)
	if v == "" {
		t.Skip("BenchmarkFloor's peer; runs only as one")
	}
	var p floorPeer
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		t.Fatal(err)
	}
	stdin := bufio.NewReader(os.Stdin)
	waitGo := func() {
		if _, err := stdin.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	event := strings.Repeat("x", 1024)
	switch p.Role {
	case "publish":
		nc, err := nats.Connect(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		data := []byte(event)
		if p.Batch > 1 {
			data = []byte("[" + strings.Repeat(event+",", p.Batch-1) + event + "]")
		}
		var tick <-chan time.Time
		if p.Rate > 0 {
			tk := time.NewTicker(time.Second * time.Duration(p.Batch) / time.Duration(p.Rate))
			defer tk.Stop()
			tick = tk.C
		}
		fmt.Println("ready")
		waitGo()
		for i := range p.N {
			if tick != nil {
				<-tick
			}
			if p.Idle {
				continue
			}
			m := nats.NewMsg(p.Subject)
			m.Header.Set(jetstream.MsgIDHeader, "acme:evt_"+strconv.Itoa(i))
			m.Data = data
			if _, err := js.PublishMsgAsync(m); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(5 * time.Minute):
			t.Fatal("publishes not acknowledged in 5 minutes")
		}
	case "receive":
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}))
		srv.StartTLS()
		defer srv.Close()
		cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		if err := os.WriteFile(p.Cert, cert, 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Println(srv.URL)
		_, _ = io.Copy(io.Discard, stdin) // serve until the benchmark closes our stdin
		return
	case "api-client":
		tr := &http.Transport{MaxIdleConnsPerHost: 32, MaxConnsPerHost: 32}
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		fmt.Println("ready")
		waitGo()
		body := []byte(`{"specversion":"1.0","id":"evt_1","source":"/bench","type":"contact.subscribed","data":"` + event + `"}`)
		paced(p.N, p.Rate, 32, func() {
			resp, err := client.Post(p.URL, "application/cloudevents+json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	default:
		t.Fatalf("no role %q", p.Role)
	}
	fmt.Println("done")
}

// jetStreamFloor runs a jetstream case.
func jetStreamFloor(b *testing.B, c floorCase) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	hub, err := bus.Open(ctx, bus.Options{Listen: "127.0.0.1:-1", DataDir: b.TempDir(), Prefix: "hookhub", Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer hub.Close()
	if err := hub.Setup(ctx); err != nil {
		b.Fatal(err)
	}
	// As the hub does: keep the events stream's block from emptying with
	// every ack (bus/keeper.go).
	go hub.RunKeepers(ctx) //nolint:errcheck // ends with ctx, returns nil
	n := hub.Names
	msgs := (b.N + c.batch - 1) / c.batch
	events := msgs * c.batch
	attempts := 0
	switch c.writes {
	case recordPerMessage:
		attempts = msgs
	case recordPerEvent:
		attempts = events
	}

	// The delivery log's index: every attempt record read back in order.
	indexed := make(chan struct{})
	if attempts > 0 {
		st, err := hub.JS.Stream(ctx, n.AttemptsStream)
		if err != nil {
			b.Fatal(err)
		}
		oc, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		if err != nil {
			b.Fatal(err)
		}
		var read atomic.Int64
		cc, err := oc.Consume(func(jetstream.Msg) {
			if read.Add(1) == int64(attempts) {
				close(indexed)
			}
		}, jetstream.PullMaxMessages(2048))
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Stop()
	} else {
		close(indexed)
	}

	event := []byte(strings.Repeat("x", 1024))
	// An attempt record as the engine writes it (delivery.Attempt).
	record, err := json.Marshal(delivery.Attempt{
		Job: "evt_0000000000000000:w1", Webhook: "w1", Account: "acme", EventID: "evt_0000000000000000",
		EventType: "contact.subscribed", Attempt: 1, Outcome: delivery.OutcomeDelivered, Status: 200, LatencyMS: 1.234,
		Headers: map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"hookhub"},
			"Webhook-Id": {"evt_0000000000000000:w1"}, "Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
			"Webhook-Timestamp": {"1790000000"}},
		Response: "ok", At: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
	})
	if err != nil {
		b.Fatal(err)
	}
	routed := make(chan struct{})
	var took, redelivered atomic.Int64
	// fail ends the wait at the first failed write: the records it was to
	// make would never come.
	failed := make(chan error, 1)
	fail := func(err error) {
		select {
		case failed <- err:
		default:
		}
	}
	// The router: takes each message, writes what a delivery of its events
	// stores, acks it.
	if c.storeOnly {
		close(routed)
	} else {
		router, err := hub.JS.Consumer(ctx, n.EventsStream, n.RouterConsumer)
		if err != nil {
			b.Fatal(err)
		}
		cc, err := router.Consume(func(m jetstream.Msg) {
			md, _ := m.Metadata()
			if md != nil && md.NumDelivered > 1 {
				redelivered.Add(1) // its work would be counted twice
			}
			for i := range c.batch {
				if c.writes == nothing {
					break
				}
				id := m.Headers().Get(jetstream.MsgIDHeader) + "-" + strconv.Itoa(i)
				copied := event
				if c.writes == idOnly {
					copied = nil
				}
				if _, err := hub.JS.PublishMsgAsync(n.ArchiveMsg("acme", id, copied, md.Sequence.Stream, id)); err != nil {
					fail(err)
				}
				if c.writes == recordPerEvent || c.writes == recordPerMessage && i == 0 {
					if _, err := hub.JS.PublishAsync(n.Attempt("acme", "w1"), record); err != nil {
						fail(err)
					}
				}
			}
			_ = m.Ack()
			if took.Add(1) == int64(msgs) {
				close(routed)
			}
		}, jetstream.PullMaxMessages(500), jetstream.PullExpiry(5*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Stop()
	}

	_, goAhead, done := startPeer(b, floorPeer{Role: "publish", URL: hub.ClientURL(), Subject: n.Prefix + ".events.acme.contact.subscribed", N: msgs, Batch: c.batch, Rate: c.rate, Idle: c.idle})
	measure(b, events, func() {
		goAhead()
		done()
		// In this order: PublishAsyncComplete is ready whenever no write is
		// pending, which may happen before the router has made them all.
		for _, wait := range []func() <-chan struct{}{
			func() <-chan struct{} { return routed }, hub.JS.PublishAsyncComplete, func() <-chan struct{} { return indexed },
		} {
			select {
			case <-wait():
			case err := <-failed:
				b.Fatal(err)
			case <-ctx.Done():
				b.Fatalf("not done in time: %d of %d messages routed", took.Load(), msgs)
			}
		}
	})
	if r := redelivered.Load(); r > 0 {
		b.Fatalf("%d messages were delivered to the router again: their work counted twice", r)
	}
}

// httpFloor runs an https-post or api-request case.
func httpFloor(b *testing.B, c floorCase) {
	if c.http == "api" {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"id":"evt_1","seq":123456}`))
		}))
		defer srv.Close()
		_, goAhead, done := startPeer(b, floorPeer{Role: "api-client", URL: srv.URL + "/v1/events", N: b.N, Rate: c.rate})
		measure(b, b.N, func() { goAhead(); done() })
		return
	}
	certFile := filepath.Join(b.TempDir(), "receiver.pem")
	url, _, _ := startPeer(b, floorPeer{Role: "receive", Cert: certFile})
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	const conns = 16
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	body := bytes.Repeat([]byte("x"), 1024)
	var failed atomic.Value
	post := func() {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			failed.Store(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// Every connection's handshake before the clock, as a hub's pool to a
	// busy receiver holds them.
	paced(10*conns, 0, conns, post)
	measure(b, b.N, func() { paced(b.N, c.rate, conns, post) })
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

// paced makes n calls of do, at most slots at once: rate a second, or as
// fast as slots workers go when rate is 0. It returns when all have
// returned.
func paced(n, rate, slots int, do func()) {
	var wg sync.WaitGroup
	if rate == 0 {
		var next atomic.Int64
		for range slots {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					do()
				}
			}()
		}
		wg.Wait()
		return
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	free := make(chan struct{}, slots)
	for range n {
		<-tick.C
		free <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-free; wg.Done() }()
			do()
		}()
	}
	wg.Wait()
}

// measure runs work with the clock on, and reports this process's CPU per
// event and the events a second.
func measure(b *testing.B, events int, work func()) {
	b.ResetTimer()
	cpu0, start := selfCPU(), time.Now()
	work()
	cpu, elapsed := selfCPU()-cpu0, time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/float64(events), "cpu-µs/event")
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cores")
	b.ReportMetric(0, "ns/op")
}
