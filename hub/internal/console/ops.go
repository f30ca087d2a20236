package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// The operator's screens (issue 12, screen 8): accounts with their usage
// and limits, the events the hub refused, the egress ranges, and the
// delivery and failure rates of every webhook over the last hour. The
// operator's session only: an account's session, in the console or the
// portal, finds no such page (404), and the API's own scoping stands
// behind that.

func (c *Console) opsRoutes() {
	c.mux.HandleFunc("GET "+Path+"accounts", c.operator(c.accountsPage))
	c.mux.HandleFunc("GET "+Path+"rejected", c.operator(c.rejectedPage))
	c.mux.HandleFunc("GET "+Path+"egress", c.operator(c.egressPage))
	c.mux.HandleFunc("GET "+Path+"rates", c.operator(c.ratesPage))
}

// operatorOf reports whether s is the operator's: the API token (or no
// token at all), never an account's token or a portal session.
func operatorOf(s *session) bool { return s != nil && s.scope == "" && !s.portal }

// operator runs h for the operator's session; any other finds no page.
func (c *Console) operator(h handler) http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request, s *session) {
		if !operatorOf(s) {
			c.render(w, r, s, http.StatusNotFound, "message", map[string]any{"Title": "Not found", "Message": "There is no such page in the console."})
			return
		}
		h(w, r, s)
	})
}

// accountUsage is an account as GET /v1/accounts shows it, with its
// deliveries of the last hour.
type accountUsage struct {
	ID           string `json:"id"`
	Configured   bool   `json:"configured"`
	Webhooks     int    `json:"webhooks"`
	WebhookLimit int    `json:"webhook_limit"`
	Active       int    `json:"active"`
	Inactive     int    `json:"inactive"`
	Disabled     int    `json:"disabled"`
	FromConfig   int    `json:"from_config"`
	// Of the last hour, summed over its webhooks.
	Delivered, Failed int
}

// Full says the account is at its webhook limit.
func (a accountUsage) Full() bool { return a.WebhookLimit > 0 && a.Webhooks >= a.WebhookLimit }

func (c *Console) accountsPage(w http.ResponseWriter, r *http.Request, s *session) {
	accounts, res := getList[accountUsage](c, r, s, "/v1/accounts")
	if res.status != http.StatusOK {
		c.failed(w, r, s, res)
		return
	}
	rows, problem := c.rateRows(r, s, "")
	byAccount := map[string]*accountUsage{}
	for i := range accounts {
		byAccount[accounts[i].ID] = &accounts[i]
	}
	for _, row := range rows {
		if a := byAccount[row.Hook.Account]; a != nil {
			a.Delivered += row.Delivered
			a.Failed += row.Failed
		}
	}
	c.render(w, r, s, http.StatusOK, "accounts", map[string]any{"Title": "Accounts", "Accounts": accounts, "Problem": problem})
}

// rejectedEvent is a refused event as GET /v1/rejected-events shows it.
type rejectedEvent struct {
	Seq       uint64    `json:"seq"`
	EventID   string    `json:"event_id"`
	Account   string    `json:"account"`
	Subject   string    `json:"subject"`
	Reason    string    `json:"reason"`
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	Truncated bool      `json:"truncated"`
}

// When is the time it was refused, to the second, UTC.
func (e rejectedEvent) When() string { return e.Time.UTC().Format("2006-01-02 15:04:05 UTC") }

type rejectedFilter struct{ Account, Since, Until string }

func (c *Console) rejectedPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	f := rejectedFilter{Account: q.Get("account"), Since: q.Get("since"), Until: q.Get("until")}
	api := url.Values{"limit": {limitOf(q.Get("limit"))}}
	for k, v := range map[string]string{"account": f.Account, "since": apiTime(f.Since), "until": apiTime(f.Until), "before": q.Get("before")} {
		if v != "" {
			api.Set(k, v)
		}
	}
	data := map[string]any{"Title": "Rejected events", "Filter": f, "Accounts": c.accountIDs(r, s), "Paged": q.Get("before") != ""}
	res := c.call(r.Context(), r, s, http.MethodGet, "/v1/rejected-events?"+api.Encode(), nil)
	status := http.StatusOK
	if res.status != http.StatusOK {
		data["Problem"] = res.err().Message // a filter the API refuses: said above the list
		status = res.status
	}
	var p page[rejectedEvent]
	_ = json.Unmarshal(res.body, &p)
	data["Events"] = p.Data
	if p.HasMore && p.Next != "" {
		older := url.Values{"before": {p.Next}}
		for k, v := range map[string]string{"account": f.Account, "since": f.Since, "until": f.Until, "limit": q.Get("limit")} {
			if v != "" {
				older.Set(k, v)
			}
		}
		data["Older"] = Path + "rejected?" + older.Encode()
	}
	c.render(w, r, s, status, "rejected", data)
}

// accountIDs are the accounts the filters offer: the API's list.
func (c *Console) accountIDs(r *http.Request, s *session) []string {
	accounts, _ := getList[struct {
		ID string `json:"id"`
	}](c, r, s, "/v1/accounts")
	out := make([]string, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, a.ID)
	}
	return out
}

func (c *Console) egressPage(w http.ResponseWriter, r *http.Request, s *session) {
	res := c.call(r.Context(), r, s, http.MethodGet, "/ip-ranges", nil)
	if res.status != http.StatusOK {
		c.failed(w, r, s, res)
		return
	}
	var body struct {
		Ranges  []string `json:"egress_ranges"`
		Updated string   `json:"updated"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		c.failed(w, r, s, apiResult{status: http.StatusBadGateway})
		return
	}
	c.render(w, r, s, http.StatusOK, "egress", map[string]any{"Title": "Egress IP ranges", "Ranges": body.Ranges,
		"Text": strings.Join(body.Ranges, "\n"), "Updated": body.Updated})
}

// The rates screen's chart: one bar a bucket, delivered below and failed
// above, scaled to the webhook's busiest bucket.
const (
	sparkBar    = 14 // px a bucket
	sparkHeight = 40
)

// bucket is one bucket of GET /v1/webhooks/{id}/stats/buckets.
type bucket struct {
	Start     time.Time `json:"start"`
	Delivered int       `json:"delivered"`
	Failed    int       `json:"failed"`
}

// Label is the bucket's start, hours and minutes, UTC.
func (b bucket) Label() string { return b.Start.UTC().Format("15:04") }

// bar is a bucket drawn: two stacked rectangles.
type bar struct {
	X, OKY, OKH, BadY, BadH int
	Label                   string
}

// rateRow is a webhook's last hour.
type rateRow struct {
	Hook              hook
	Delivered, Failed int
	Buckets           []bucket
	Bars              []bar
	Width, Height     int
	Problem           string
}

// Rate is the share of attempts that failed, in percent.
func (r rateRow) Rate() float64 {
	if r.Delivered+r.Failed == 0 {
		return 0
	}
	return 100 * float64(r.Failed) / float64(r.Delivered+r.Failed)
}

// RateText is Rate to one decimal, or "no attempts".
func (r rateRow) RateText() string {
	if r.Delivered+r.Failed == 0 {
		return "no attempts"
	}
	return fmt.Sprintf("%.1f%%", r.Rate())
}

// Summary is the chart's text alternative.
func (r rateRow) Summary() string {
	worst, at := 0, ""
	for _, b := range r.Buckets {
		if b.Failed > worst {
			worst, at = b.Failed, b.Label()
		}
	}
	s := fmt.Sprintf("Last hour in %d five-minute buckets: %d delivered, %d failed", len(r.Buckets), r.Delivered, r.Failed)
	if worst > 0 {
		s += fmt.Sprintf("; most failures (%d) in the bucket from %s UTC", worst, at)
	}
	return s + "."
}

func (c *Console) ratesPage(w http.ResponseWriter, r *http.Request, s *session) {
	account := r.URL.Query().Get("account")
	rows, problem := c.rateRows(r, s, account)
	c.render(w, r, s, http.StatusOK, "rates", map[string]any{"Title": "Delivery rates", "Rows": rows, "Problem": problem,
		"Account": account, "Accounts": c.accountIDs(r, s)})
}

// rateRows are the webhooks' last hours (of account, or all), worst
// failure rate first, then most failures, then most deliveries.
func (c *Console) rateRows(r *http.Request, s *session, account string) ([]rateRow, string) {
	hooks, res := getList[hook](c, r, s, "/v1/webhooks")
	if res.status != http.StatusOK {
		return nil, res.err().Message
	}
	var rows []rateRow
	for _, h := range hooks {
		if account == "" || h.Account == account {
			rows = append(rows, rateRow{Hook: h})
		}
	}
	// One API call a webhook, a few at a time: each waits on a round trip
	// to the attempt stream, not on the CPU.
	sem := make(chan struct{}, rateCalls)
	var wg sync.WaitGroup
	for i := range rows {
		wg.Add(1)
		sem <- struct{}{}
		go func(row *rateRow) {
			defer func() { <-sem; wg.Done() }()
			c.fillRate(r, s, row)
		}(&rows[i])
	}
	wg.Wait()
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Rate() != b.Rate() {
			return a.Rate() > b.Rate()
		}
		if a.Failed != b.Failed {
			return a.Failed > b.Failed
		}
		if a.Delivered != b.Delivered {
			return a.Delivered > b.Delivered // the busier first; idle ones last
		}
		return a.Hook.ID < b.Hook.ID
	})
	return rows, ""
}

// rateCalls bounds the bucket calls a page makes at once.
const rateCalls = 8

// fillRate reads a webhook's buckets of the last hour and draws them.
func (c *Console) fillRate(r *http.Request, s *session, row *rateRow) {
	buckets, res := getList[bucket](c, r, s, hookPath(row.Hook.ID, "/stats/buckets?bucket=5m&window=1h"))
	if res.status != http.StatusOK {
		row.Problem = res.err().Message
	}
	row.Buckets = buckets
	for _, b := range buckets {
		row.Delivered += b.Delivered
		row.Failed += b.Failed
	}
	row.draw()
}

// draw lays out the row's bars.
func (r *rateRow) draw() {
	top := 0
	for _, b := range r.Buckets {
		top = max(top, b.Delivered+b.Failed)
	}
	r.Width, r.Height = sparkBar*max(len(r.Buckets), 1), sparkHeight
	r.Bars = make([]bar, len(r.Buckets))
	for i, b := range r.Buckets {
		br := bar{X: i*sparkBar + 1, Label: b.Label()}
		if top > 0 {
			br.OKH = scaled(b.Delivered, top)
			br.BadH = scaled(b.Failed, top)
		}
		br.OKY = sparkHeight - br.OKH
		br.BadY = max(0, br.OKY-br.BadH)
		br.BadH = br.OKY - br.BadY
		r.Bars[i] = br
	}
}

// scaled is n of top as a bar's height: at least 2 px when n > 0.
func scaled(n, top int) int {
	if n == 0 {
		return 0
	}
	return max(2, n*(sparkHeight-2)/top)
}
