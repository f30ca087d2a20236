package accept

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/hookhub/hookhub/hub/internal/envelope"
	"github.com/hookhub/hookhub/hub/internal/schemacheck"
	"github.com/hookhub/hookhub/hub/internal/view"
)

// decodeData is schemacheck.Decode for an event's data, faster: valid JSON
// without a backslash is built from gjson's reading, with numbers as
// json.Number as the validator expects; anything else goes to
// schemacheck.Decode. checked says envelope.Parse's fast path has validated data
// already (UTF-8, JSON, nesting). A fuzz test holds the two to the same
// documents.
func decodeData(data []byte, checked bool) (any, error) {
	if bytes.IndexByte(data, '\\') >= 0 || !checked && (!utf8.Valid(data) || !gjson.ValidBytes(data) || envelope.TooDeep(data)) {
		return schemacheck.Decode(data)
	}
	return toAny(gjson.Parse(view.String(data))), nil
}

func toAny(r gjson.Result) any {
	switch r.Type {
	case gjson.Null:
		return nil
	case gjson.False:
		return false
	case gjson.True:
		return true
	case gjson.Number:
		return json.Number(r.Raw)
	case gjson.String:
		return r.Str
	}
	if r.IsArray() {
		out := []any{}
		r.ForEach(func(_, v gjson.Result) bool {
			out = append(out, toAny(v))
			return true
		})
		return out
	}
	out := map[string]any{}
	r.ForEach(func(k, v gjson.Result) bool {
		out[k.Str] = toAny(v)
		return true
	})
	return out
}
