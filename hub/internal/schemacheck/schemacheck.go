// Package schemacheck validates JSON documents against hookhub's embedded JSON
// Schemas and turns the validator's tree of errors into flat issues that say
// where (a path such as webhooks[3].url) and why.
package schemacheck

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hookhub/hookhub/schemas"
)

// Issue is one reason a document does not match its schema.
type Issue struct {
	Path string // where, e.g. webhooks[3].url; "" for the document itself
	Msg  string // why
}

func (i Issue) String() string {
	if i.Path == "" {
		return i.Msg
	}
	return i.Path + ": " + i.Msg
}

var printer = message.NewPrinter(language.English)

// Set is the compiled set of embedded schemas. It is safe for concurrent use.
type Set struct {
	mu       sync.RWMutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

var (
	defaultOnce sync.Once
	defaultSet  *Set
	defaultErr  error
)

// Default returns the Set of every schema in schemas.FS, loaded once.
func Default() (*Set, error) {
	defaultOnce.Do(func() { defaultSet, defaultErr = load() })
	return defaultSet, defaultErr
}

func load() (*Set, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	err := fs.WalkDir(schemas.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := fs.ReadFile(schemas.FS, path)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("schemas/%s: %w", path, err)
		}
		return c.AddResource(schemas.BaseURL+path, doc)
	})
	if err != nil {
		return nil, fmt.Errorf("schemacheck: load: %w", err)
	}
	return &Set{compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
}

// Schema returns the compiled schema at path in schemas.FS (for example
// "config.schema.json" or "events/email.clicked.schema.json").
func (s *Set) Schema(path string) (*jsonschema.Schema, error) {
	s.mu.RLock()
	sch := s.compiled[path]
	s.mu.RUnlock()
	if sch != nil {
		return sch, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch = s.compiled[path]; sch != nil {
		return sch, nil
	}
	sch, err := s.compiler.Compile(schemas.BaseURL + path)
	if err != nil {
		return nil, fmt.Errorf("schemacheck: compile %s: %w", path, err)
	}
	s.compiled[path] = sch
	return sch, nil
}

// Has reports whether the set holds a schema at path.
func (s *Set) Has(path string) bool {
	_, err := fs.Stat(schemas.FS, path)
	return err == nil
}

// Validate checks doc (as decoded by Decode) against the schema at path.
func (s *Set) Validate(path string, doc any) ([]Issue, error) {
	sch, err := s.Schema(path)
	if err != nil {
		return nil, err
	}
	return Check(sch, doc), nil
}

// Decode decodes JSON the way the validator needs it (numbers kept exact).
func Decode(b []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// Compile compiles a standalone schema document (a plugin's config schema, say)
// under the name url.
func Compile(url string, schema []byte) (*jsonschema.Schema, error) {
	doc, err := Decode(schema)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// Check validates doc against sch and returns every issue, sorted by path.
func Check(sch *jsonschema.Schema, doc any) []Issue {
	err := sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Issue{{Msg: err.Error()}}
	}
	var out []Issue
	seen := map[Issue]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			is := Issue{Path: Path(e.InstanceLocation), Msg: e.ErrorKind.LocalizedString(printer)}
			if !seen[is] {
				seen[is] = true
				out = append(out, is)
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Path renders JSON pointer tokens as webhooks[3].url.
func Path(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

// refuseLoader loads nothing: a schema compiled with it may refer only to
// itself and the JSON Schema meta-schemas, never to a file or a URL.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%q: a schema here must be self-contained ($ref only within it)", url)
}

// CompileSelfContained is Compile for a schema from a config or an API
// caller (a declared event type's): it loads no file and no URL, so a $ref
// cannot read the host's files.
func CompileSelfContained(url string, schema []byte) (*jsonschema.Schema, error) {
	doc, err := Decode(schema)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}
