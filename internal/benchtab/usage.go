package benchtab

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of /proc's CPU times.
const clockTick = 100

// Usage is what the machine did while one leg ran: all CPUs' busy and
// total time (from /proc/stat), and the CPU time of watched processes.
type Usage struct {
	Busy, Total time.Duration
	ProcCPU     map[string]time.Duration
}

// BusyPct is the share of all CPUs' time that was busy (0 when unknown).
func (u Usage) BusyPct() float64 {
	if u.Total <= 0 {
		return 0
	}
	return 100 * float64(u.Busy) / float64(u.Total)
}

// Meter measures Usage from Start to Stop. Watched processes are named
// sets of process trees (pids and their descendants, such as RT's server
// and its workers), read at both ends: a process that started in between
// counts with all its CPU, one that exited in between (a recycled worker)
// is lost, so call Stop before stopping what you watch.
type Meter struct {
	trees       map[string][]int
	busy, total time.Duration
	cpu         map[string]map[int]time.Duration
}

// Start begins a measurement of the machine and of the trees (name → root pids).
func Start(trees map[string][]int) *Meter {
	m := &Meter{trees: trees}
	m.busy, m.total = machine()
	m.cpu = treeCPU(trees)
	return m
}

// Stop ends the measurement.
func (m *Meter) Stop() Usage {
	busy, total := machine()
	u := Usage{Busy: busy - m.busy, Total: total - m.total, ProcCPU: map[string]time.Duration{}}
	for name, pids := range treeCPU(m.trees) {
		u.ProcCPU[name] = 0
		for pid, d := range pids {
			u.ProcCPU[name] += max(0, d-m.cpu[name][pid])
		}
	}
	return u
}

// PIDFile reads a pid file (0 when it cannot be read).
func PIDFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// machine returns the busy and total CPU time of all CPUs since boot.
func machine() (busy, total time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	for i, s := range f[1:] {
		v, _ := strconv.ParseInt(s, 10, 64)
		total += ticks(v)
		if i != 3 && i != 4 { // idle and iowait are not busy
			busy += ticks(v)
		}
	}
	return busy, total
}

func ticks(v int64) time.Duration { return time.Duration(v) * time.Second / clockTick }

// treeCPU returns, per name, the user+system CPU time of each of its
// roots and their live descendants, by pid.
func treeCPU(trees map[string][]int) map[string]map[int]time.Duration {
	out := map[string]map[int]time.Duration{}
	if len(trees) == 0 {
		return out
	}
	parent, cpu := map[int]int{}, map[int]time.Duration{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, c, ok := procStat(pid); ok {
			parent[pid], cpu[pid] = pp, c
		}
	}
	for name, roots := range trees {
		out[name] = map[int]time.Duration{}
		for pid, c := range cpu {
			for p := pid; p > 1; p = parent[p] {
				if slices.Contains(roots, p) {
					out[name][pid] = c
					break
				}
			}
		}
	}
	return out
}

// ProcessCPU is the user and system time process pid has used so far (0
// when it cannot be read).
func ProcessCPU(pid int) time.Duration {
	_, cpu, _ := procStat(pid)
	return cpu
}

// procStat reads a process's parent and user+system CPU time.
func procStat(pid int) (ppid int, cpu time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name may hold spaces and parentheses: fields follow the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:])) // state ppid ... utime(14th field: f[11]) stime(f[12])
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, ticks(ut + st), true
}

// LoadAvg is /proc/loadavg's 1, 5 and 15 minute figures ("" when unknown).
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
