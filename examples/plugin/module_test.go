package main

import (
	"os"
	"strings"
	"testing"
)

// TestPluginNeedsOnlyTheSDK: this plugin's go.mod requires the sdk module
// and nothing else, as a plugin of yours would.
func TestPluginNeedsOnlyTheSDK(t *testing.T) {
	b, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var required []string
	inBlock := false
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(strings.SplitN(line, "//", 2)[0])
		switch {
		case len(f) == 0:
		case inBlock && f[0] == ")":
			inBlock = false
		case inBlock:
			required = append(required, f[0])
		case f[0] == "require" && len(f) > 1 && f[1] == "(":
			inBlock = true
		case f[0] == "require":
			required = append(required, f[1])
		}
	}
	if len(required) != 1 || required[0] != "github.com/hookhub/hookhub/sdk" {
		t.Errorf("go.mod requires %v; want only github.com/hookhub/hookhub/sdk", required)
	}
}
