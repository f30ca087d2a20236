package hub_test

import (
	"go/build"
	"path/filepath"
	"slices"
	"testing"
)

// TestImportRules holds the layout rules of ../shared/STYLE.md that keep
// the packages' flow one way: routing and delivery never import each other
// (they meet on the DELIVERIES stream, and share the acceptance of events
// through accept), and delivery imports neither admin nor pluginhost.
func TestImportRules(t *testing.T) {
	const mod = "github.com/hookhub/hookhub/hub/internal/"
	for pkg, banned := range map[string][]string{
		"delivery": {"routing", "admin", "pluginhost"},
		"routing":  {"delivery", "admin"},
		"accept":   {"routing", "delivery", "admin"},
	} {
		p, err := build.ImportDir(filepath.Join("internal", pkg), 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, b := range banned {
			if slices.Contains(p.Imports, mod+b) {
				t.Errorf("hub/internal/%s imports hub/internal/%s", pkg, b)
			}
		}
	}
}
