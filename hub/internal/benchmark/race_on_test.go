//go:build race

package benchmark

// raceDetector is on: a run with a Go plugin compiled to WebAssembly skips,
// since under the detector on a loaded machine its instances take longer to
// start than the plugin's start limit (as in the hub's own tests).
const raceDetector = true
