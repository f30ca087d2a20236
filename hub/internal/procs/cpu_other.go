//go:build !unix

package procs

import "time"

// processCPU cannot be read here: the controller stays off (see Fixed).
func processCPU() time.Duration { return -1 }
