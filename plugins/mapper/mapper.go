// Package mapper is the first-party plugin that needs no code: the webhook's
// plugin config maps the body (pick, rename, set constants, drop fields) and
// filters events on their fields (equals, in, exists, prefix, numeric
// comparisons, and/or/not). An event the filter refuses is skipped: nothing
// is sent for it.
//
//	{"filter": {"and": [{"field": "data.plan", "in": ["pro", "team"]},
//	                    {"not": {"field": "data.email", "prefix": "test+"}}]},
//	 "pick": ["type", "timestamp", "data.email", "data.plan"],
//	 "rename": {"data.email": "email"},
//	 "set": {"source": "hookhub"},
//	 "drop": ["data.attributes.SSN"]}
package mapper

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/hookhub/hookhub/plugins/internal/pluginutil"
	"github.com/hookhub/hookhub/sdk/abi"
)

// ConfigSchema is the JSON Schema of the plugin's config.
//
//go:embed config.schema.json
var ConfigSchema []byte

// Config of the plugin. Paths are dotted (data.attributes.FIRSTNAME). The
// filter reads the CloudEvent (type, initiator, data...); pick, rename, set
// and drop apply, in that order, to the body built so far.
type Config struct {
	Filter *Cond             `json:"filter,omitempty"`
	Pick   []string          `json:"pick,omitempty"`
	Rename map[string]string `json:"rename,omitempty"`
	Set    map[string]any    `json:"set,omitempty"`
	Drop   []string          `json:"drop,omitempty"`
	Flat   bool              `json:"flat,omitempty"` // keep an array body even for one event
}

// Cond is one filter condition: a field test, or and/or/not of others.
type Cond struct {
	Field  string          `json:"field,omitempty"`
	Equals json.RawMessage `json:"equals,omitempty"`
	In     []any           `json:"in,omitempty"`
	Exists *bool           `json:"exists,omitempty"`
	Prefix *string         `json:"prefix,omitempty"`
	GT     *float64        `json:"gt,omitempty"`
	GTE    *float64        `json:"gte,omitempty"`
	LT     *float64        `json:"lt,omitempty"`
	LTE    *float64        `json:"lte,omitempty"`
	And    []*Cond         `json:"and,omitempty"`
	Or     []*Cond         `json:"or,omitempty"`
	Not    *Cond           `json:"not,omitempty"`
}

// Match evaluates the condition against a generic JSON document.
func (c *Cond) Match(doc any) (bool, error) {
	switch {
	case c.And != nil:
		for _, x := range c.And {
			if ok, err := x.Match(doc); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case c.Or != nil:
		for _, x := range c.Or {
			if ok, err := x.Match(doc); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case c.Not != nil:
		ok, err := c.Not.Match(doc)
		return !ok, err
	case c.Field == "":
		return false, fmt.Errorf("filter: a condition needs field, and, or or not")
	}
	v, found := pluginutil.Get(doc, c.Field)
	switch {
	case c.Exists != nil:
		return found == *c.Exists, nil
	case !found:
		return false, nil
	case c.Equals != nil:
		want, err := pluginutil.Decode(c.Equals)
		if err != nil {
			return false, fmt.Errorf("filter: equals: %v", err)
		}
		return equal(v, want), nil
	case c.In != nil:
		for _, w := range c.In {
			if equal(v, normalize(w)) {
				return true, nil
			}
		}
		return false, nil
	case c.Prefix != nil:
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, *c.Prefix), nil
	case c.GT != nil || c.GTE != nil || c.LT != nil || c.LTE != nil:
		n, ok := number(v)
		if !ok {
			return false, nil
		}
		return (c.GT == nil || n > *c.GT) && (c.GTE == nil || n >= *c.GTE) &&
			(c.LT == nil || n < *c.LT) && (c.LTE == nil || n <= *c.LTE), nil
	}
	return false, fmt.Errorf("filter: condition on %s has no test (equals, in, exists, prefix, gt, gte, lt, lte)", c.Field)
}

func number(v any) (float64, bool) {
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case float64:
		return t, true
	}
	return 0, false
}

// normalize turns numbers into json.Number, as documents decode them.
func normalize(v any) any {
	if f, ok := v.(float64); ok {
		return json.Number(fmt.Sprint(f))
	}
	return v
}

func equal(a, b any) bool {
	na, aok := number(a)
	nb, bok := number(b)
	if aok && bok {
		return na == nb
	}
	return reflect.DeepEqual(a, b)
}

// Transform filters and maps each event; a batch keeps the events the filter
// lets through, and is skipped when none is left.
func Transform(in *abi.Input) (*abi.Output, error) {
	var cfg Config
	if err := pluginutil.Config(in.Config, &cfg); err != nil {
		return nil, err
	}
	evs, err := pluginutil.Events(in.Events)
	if err != nil {
		return nil, err
	}
	body, err := pluginutil.Decode(in.Request.Body)
	if err != nil {
		return nil, fmt.Errorf("the request body is not JSON: %v", err)
	}
	docs := []any{body}
	batch := false
	if arr, ok := body.([]any); ok {
		docs, batch = arr, true
	}
	if len(docs) != len(evs) {
		return nil, fmt.Errorf("the body holds %d events, the input %d", len(docs), len(evs))
	}
	var kept []any
	for i, e := range evs {
		if cfg.Filter != nil {
			ok, err := cfg.Filter.Match(pluginutil.EventObject(e))
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		m, ok := docs[i].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("event %d's body is not an object", i)
		}
		kept = append(kept, apply(&cfg, m))
	}
	if len(kept) == 0 {
		return &abi.Output{Skip: true}, nil
	}
	var out []byte
	if batch || cfg.Flat {
		out = pluginutil.JSON(kept)
	} else {
		out = pluginutil.JSON(kept[0])
	}
	return &abi.Output{Request: abi.Request{ContentType: "application/json", Headers: in.Request.Headers, Query: in.Request.Query, Body: out}}, nil
}

func apply(cfg *Config, m map[string]any) map[string]any {
	if len(cfg.Pick) > 0 {
		picked := map[string]any{}
		for _, p := range cfg.Pick {
			if v, ok := pluginutil.Get(m, p); ok {
				pluginutil.Set(picked, p, v)
			}
		}
		m = picked
	}
	for from, to := range cfg.Rename {
		if v, ok := pluginutil.Get(m, from); ok {
			pluginutil.Delete(m, from)
			pluginutil.Set(m, to, v)
		}
	}
	for p, v := range cfg.Set {
		pluginutil.Set(m, p, v)
	}
	for _, p := range cfg.Drop {
		pluginutil.Delete(m, p)
	}
	pruneEmpty(m)
	return m
}

// pruneEmpty removes objects left empty by renames and drops.
func pruneEmpty(m map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			pruneEmpty(sub)
			if len(sub) == 0 {
				delete(m, k)
			}
		}
	}
}
