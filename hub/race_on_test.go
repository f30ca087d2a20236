//go:build race

package hub_test

// raceDetector is on: tests that compile a Go plugin to WebAssembly and
// start it skip, since under the detector on a loaded machine that takes
// longer than hub.New's 60 s start bound.
const raceDetector = true
