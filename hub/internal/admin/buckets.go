package admin

import (
	"net/http"
	"time"

	"github.com/hookhub/hookhub/hub/internal/deliverylog"
)

// BucketStats are a webhook's attempts by outcome in consecutive buckets
// of equal width, oldest first (test sends not counted).
type BucketStats struct {
	Webhook string        `json:"webhook"`
	Account string        `json:"account"`
	Bucket  string        `json:"bucket"` // the width, such as "5m0s"
	Since   time.Time     `json:"since"`
	Until   time.Time     `json:"until"`
	Data    []BucketCount `json:"data"`
}

// BucketCount is one bucket: attempts that started in [Start, Start+width).
type BucketCount struct {
	Start time.Time `json:"start"`
	WindowStats
}

// statsBuckets answers GET /v1/webhooks/{id}/stats/buckets?bucket=5m&window=1h:
// the webhook's counts per bucket over the window that ends with the
// current second (the defaults: 5-minute buckets over one hour). Another
// account's webhook is not found, as for the other stats.
func (s *Server) statsBuckets(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.webhook(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	step, err := durationParam(r, "bucket", 5*time.Minute)
	if err != nil {
		return err
	}
	window, err := durationParam(r, "window", time.Hour)
	if err != nil {
		return err
	}
	if step < time.Minute || window%step != 0 || window/step > deliverylog.MaxBuckets {
		return badRequest("bad_parameter", "bucket", "bucket must be at least 1m and divide window into at most 288 buckets")
	}
	n := int(window / step)
	until := time.Now().UTC().Truncate(time.Second).Add(time.Second) // the current second whole
	counts, err := s.d.DeliveryLog.Buckets(r.Context(), wh.Account, wh.ID, until, step, n)
	if err != nil {
		return logError(err)
	}
	out := BucketStats{Webhook: wh.ID, Account: wh.Account, Bucket: step.String(), Since: until.Add(-window), Until: until,
		Data: make([]BucketCount, len(counts))}
	for i, c := range counts {
		out.Data[i] = BucketCount{Start: out.Since.Add(time.Duration(i) * step), WindowStats: windowStats(c)}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// durationParam reads a Go duration (such as 5m or 1h) from the query.
func durationParam(r *http.Request, name string, def time.Duration) (time.Duration, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, badRequest("bad_parameter", name, name+" must be a positive duration such as 5m or 1h")
	}
	return d, nil
}
