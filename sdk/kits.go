// Package sdk holds the language kits' plugin templates, embedded, so that
// hookhub plugin new writes a project from the same files the kits' own
// tests build: the Go kit's (template/), the C kit's (c/template and
// c/hookhub.h), the AssemblyScript kit's (assemblyscript/template, its
// assembly/index.ts and asconfig.json) and the js plugin's (js/template).
// The sample events and golden files in template/ hold for the Go, C and
// AssemblyScript templates alike: they send the same bytes.
package sdk

import "embed"

// Kits are the templates, by their paths in the sdk folder.
//
//go:embed template/*.go template/go.mod.tmpl template/build.sh template/events template/expected
//go:embed c/hookhub.h c/template/build.sh c/template/transform.c
//go:embed assemblyscript/template/transform.ts assemblyscript/template/build.sh assemblyscript/assembly/index.ts assemblyscript/asconfig.json assemblyscript/package.json
//go:embed js/template
var Kits embed.FS
