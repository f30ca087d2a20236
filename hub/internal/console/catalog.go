package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The event catalog (issue 12, screen 6): every type the session may see,
// as the API lists it (GET /v1/event-types: the built-in catalog, the
// hub's declared types and the account's), searched with the API's own
// ?q=, grouped by category, each with its fields (read from its JSON
// Schema, GET /v1/event-types/{type}) and its sample.

func (c *Console) catalogRoutes() {
	c.mux.HandleFunc("GET "+Path+"event-types", c.authed(c.catalog))
}

// catalogType is a type of the catalog screen.
type catalogType struct {
	Type, Title, Description string
	Aliases                  []string
	Lists                    bool
	Account                  string
	Custom                   bool
	Fields                   []schemaField
	Sample                   string // pretty-printed JSON
}

// schemaField is a property of a type's schema.
type schemaField struct {
	Name, Type, Description string
	Required                bool
}

type catalogGroup struct {
	Name, Label string
	Types       []catalogType
}

func (c *Console) catalog(w http.ResponseWriter, r *http.Request, s *session) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	account := r.URL.Query().Get("account")
	if s.scope != "" || account == "*" {
		account = s.scope // an account's session sees its own types (the API says so too)
	}
	v := url.Values{"account": {account}}
	if q != "" {
		v.Set("q", q)
	}
	list, res := getList[struct {
		Type     string `json:"type"`
		Category string `json:"category"`
	}](c, r, s, "/v1/event-types?"+v.Encode())
	if res.status != http.StatusOK {
		c.failed(w, r, s, res)
		return
	}
	groups := map[string]*catalogGroup{}
	var order []string
	for _, t := range list {
		one := c.call(r.Context(), r, s, http.MethodGet, "/v1/event-types/"+url.PathEscape(t.Type)+"?account="+url.QueryEscape(account), nil)
		if one.status != http.StatusOK {
			c.failed(w, r, s, one)
			return
		}
		ct, err := readCatalogType(one.body)
		if err != nil {
			c.failed(w, r, s, apiResult{status: http.StatusBadGateway})
			return
		}
		cat := t.Category
		if cat == "" {
			cat = "custom"
		}
		g := groups[cat]
		if g == nil {
			g = &catalogGroup{Name: cat, Label: categoryLabels[cat]}
			if g.Label == "" {
				g.Label = strings.ToUpper(cat[:1]) + cat[1:]
			}
			groups[cat] = g
			order = append(order, cat)
		}
		g.Types = append(g.Types, ct)
	}
	sort.Strings(order)
	out := make([]catalogGroup, 0, len(order))
	for _, n := range order {
		out = append(out, *groups[n])
	}
	data := map[string]any{"Title": "Event catalog", "Q": q, "Groups": out, "Count": len(list),
		"Operator": s.scope == "", "Account": account}
	if s.scope == "" && !s.portal {
		var ids []string
		for _, a := range c.o.Config.Accounts {
			ids = append(ids, a.ID)
		}
		data["Accounts"] = ids
	}
	c.render(w, r, s, http.StatusOK, "catalog", data)
}

// readCatalogType reads the API's answer for one type: its summary, the
// top-level properties of its schema, and its sample.
func readCatalogType(body []byte) (catalogType, error) {
	var t struct {
		Type        string          `json:"type"`
		Title       string          `json:"title"`
		Description string          `json:"description"`
		Aliases     []string        `json:"aliases"`
		Lists       bool            `json:"lists"`
		Account     string          `json:"account"`
		Custom      bool            `json:"custom"`
		Schema      json.RawMessage `json:"schema"`
		Sample      json.RawMessage `json:"sample"`
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return catalogType{}, err
	}
	ct := catalogType{Type: t.Type, Title: t.Title, Description: t.Description, Aliases: t.Aliases, Lists: t.Lists,
		Account: t.Account, Custom: t.Custom, Fields: schemaFields(t.Schema)}
	var pretty bytes.Buffer
	if len(t.Sample) > 0 && json.Indent(&pretty, t.Sample, "", "  ") == nil {
		ct.Sample = pretty.String()
	}
	return ct, nil
}

// schemaFields are a schema's top-level properties, required ones first,
// each group by name. A schema the screen cannot read has none.
func schemaFields(raw json.RawMessage) []schemaField {
	var sch struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			Type        json.RawMessage `json:"type"`
			Format      string          `json:"format"`
			Description string          `json:"description"`
			Items       *struct {
				Type json.RawMessage `json:"type"`
			} `json:"items"`
		} `json:"properties"`
	}
	if json.Unmarshal(raw, &sch) != nil {
		return nil
	}
	out := make([]schemaField, 0, len(sch.Properties))
	for name, p := range sch.Properties {
		typ := typeName(p.Type)
		if typ == "array" && p.Items != nil {
			if it := typeName(p.Items.Type); it != "" {
				typ = "array of " + it
			}
		}
		if p.Format != "" {
			typ += " (" + p.Format + ")"
		}
		req := false
		for _, r := range sch.Required {
			req = req || r == name
		}
		out = append(out, schemaField{Name: name, Type: strings.TrimSpace(typ), Description: p.Description, Required: req})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Required != out[j].Required {
			return out[i].Required
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// typeName is a schema's "type": one name, or several joined with "or".
func typeName(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return strings.Join(many, " or ")
	}
	return ""
}
