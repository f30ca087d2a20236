package benchmark

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsQuoteTheREADMEsFigures: the README's benchmark section is the one
// source of throughput figures; a deliveries/s figure in docs/ is one the
// README states, so the two cannot drift apart again (operations.md said
// about 9,000 while the README said 12,000).
func TestDocsQuoteTheREADMEsFigures(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	thousands := regexp.MustCompile(`(\d),(\d{3})`)
	plain := func(s string) string { return thousands.ReplaceAllString(s, "$1$2") }
	known := map[string]bool{}
	for _, n := range regexp.MustCompile(`\d+`).FindAllString(plain(string(readme)), -1) {
		known[n] = true
	}
	figure := regexp.MustCompile(`(\d[\d,]*)[^\d\n]{0,25}deliveries/s`)
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	for _, doc := range docs {
		raw, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(raw), "\n") {
			for _, m := range figure.FindAllStringSubmatch(line, -1) {
				if n := plain(m[1]); !known[n] {
					t.Errorf("%s:%d: %q: a figure the README's benchmark does not state; link to it instead", filepath.Base(doc), i+1, m[0])
				}
			}
		}
	}
}
