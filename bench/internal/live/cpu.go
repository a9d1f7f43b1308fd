package live

import (
	"os"
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time (user and system, every thread) an
// exited process used, from its rusage.
func ProcessCPU(ps *os.ProcessState) time.Duration {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return ps.UserTime() + ps.SystemTime()
}
