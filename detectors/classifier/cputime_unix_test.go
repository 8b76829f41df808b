//go:build unix

package classifier

import (
	"syscall"
	"time"
)

// cpuTime is this process's user+system CPU time: on a shared machine the
// benchmarks also report throughput per CPU-second, which other processes'
// load distorts far less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
