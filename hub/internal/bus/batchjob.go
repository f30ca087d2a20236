package bus

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tidwall/gjson"
)

// HeaderBatch marks a job that carries a batch of events: its data is a
// JSON array of BatchItem, and the header's value their number. The router
// writes one for each full batch of a batching webhook's events that came
// in one batched message (BatchJobMsg), and the delivery engine one for a
// batch's retry. On a dead letter, it names the batch the event failed in.
const HeaderBatch = "Hookhub-Batch"

// BatchItem is one event of a batch job.
type BatchItem struct {
	Job     string          `json:"job"` // <event id>:<webhook id>
	EventID string          `json:"event_id"`
	Raw     json.RawMessage `json:"event"`
	Stored  time.Time       `json:"stored"` // when the job was first written
}

// BatchID is the webhook-id of a batch of jobs: the same for the same jobs
// in the same order.
func BatchID(jobs []string) string {
	sum := sha256.Sum256([]byte(strings.Join(jobs, "\n")))
	return "batch_" + hex.EncodeToString(sum[:12])
}

// BatchJobMsg is the job of items for webhook of account: one message for
// the batch, de-duplicated by its BatchID, delivered in one request and
// retried as one.
func (n Names) BatchJobMsg(account, webhook string, items []BatchItem) (*nats.Msg, error) {
	jobs := make([]string, len(items))
	for i, it := range items {
		jobs[i] = it.Job
	}
	data, err := MarshalBatch(items)
	if err != nil {
		return nil, err
	}
	id := BatchID(jobs)
	m := nats.NewMsg(n.Delivery(account, webhook))
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Header.Set(HeaderJob, id)
	m.Header.Set(HeaderWebhook, webhook)
	m.Header.Set(HeaderBatch, strconv.Itoa(len(items)))
	m.Data = data
	return m, nil
}

// MarshalBatch is the data of a batch job: items as a JSON array, each
// event as it came (compacted, not HTML-escaped), so that a batch takes at
// most BatchItemSize of each item.
func MarshalBatch(items []BatchItem) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(items); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalBatch reads the data of a batch job, as json.Unmarshal into a
// []BatchItem would, in one pass over each item and without reflection
// (a batch of 100 events is read at each of its attempts).
func UnmarshalBatch(data []byte) ([]BatchItem, error) {
	if !gjson.ValidBytes(data) {
		return nil, errors.New("bus: a batch job's data is not JSON")
	}
	arr := gjson.ParseBytes(data)
	if !arr.IsArray() {
		return nil, errors.New("bus: a batch job's data is not an array")
	}
	var items []BatchItem
	var err error
	arr.ForEach(func(_, v gjson.Result) bool {
		if !v.IsObject() {
			err = errors.New("bus: a batch job's item is not an object")
			return false
		}
		var it BatchItem
		v.ForEach(func(k, f gjson.Result) bool {
			switch k.Str {
			case "job", "event_id", "stored":
				if f.Type == gjson.Null {
					return true
				}
				if f.Type != gjson.String {
					err = fmt.Errorf("bus: a batch job's item has a %s that is no string", k.Str)
					return false
				}
				switch k.Str {
				case "job":
					it.Job = f.Str
				case "event_id":
					it.EventID = f.Str
				default:
					if it.Stored, err = time.Parse(time.RFC3339Nano, f.Str); err != nil {
						err = fmt.Errorf("bus: a batch job's item: stored: %w", err)
						return false
					}
				}
			case "event":
				it.Raw = json.RawMessage(f.Raw)
			}
			return true
		})
		items = append(items, it)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// BatchItemSize bounds what an item of job id and event eventID, the event
// raw, takes in MarshalBatch's array: the event, its ids escaped at worst
// (\u00XX for a control character), the time and the keys.
func BatchItemSize(raw []byte, job, eventID string) int {
	return len(raw) + 6*(len(job)+len(eventID)) + 96
}

// BatchMaxBytes bounds the data of a batch job (the router's, and a
// gathered batch's retry): one NATS message, up to the connection's
// max_payload (1 MiB by default on an outside server, 8 MiB embedded), less
// room for the headers.
func (b *Bus) BatchMaxBytes() int { return int(b.NC.MaxPayload()) - 4096 }
