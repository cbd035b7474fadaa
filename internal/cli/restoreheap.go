package cli

import (
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
)

// A big restore (100,000 rules and more) builds a rule set that is nearly
// all live data, in fresh memory. Two things dominate its time that the
// parse does not: the collector marking that growing heap again and
// again, and the first touch of every fresh page, a page fault each
// (about 20,000 for 100,000 rules on 4 KiB pages; on a virtual machine a
// fault can cost 10 µs and more). prepareHeap addresses both.

// bigRestore is the input size from which prepareHeap acts.
const bigRestore = 4 << 20

// heapPerInputByte is about what the heap of a restore grows by per byte
// of input (the text, rules, chains; 100,000 kube-proxy rules: 13.7 MB
// of text, 80 MB of heap).
const heapPerInputByte = 8

var adviseOnce sync.Once

// prepareHeap readies the process for a restore of size bytes of input
// (or for reading a state file of that size): the collector is off until
// the returned function puts it back (with a memory limit far above what
// the rules need, so that it still runs before memory runs short), and on
// Linux the heap the rules will take is mapped ahead as one range advised
// for transparent huge pages (a no-op where they are off), once per
// process.
func prepareHeap(size int64) (restore func()) {
	if size < bigRestore {
		return func() {}
	}
	limit := debug.SetMemoryLimit(-1)
	gc := debug.SetGCPercent(-1)
	debug.SetMemoryLimit(min(limit, 4*heapPerInputByte*size+256<<20))
	adviseOnce.Do(func() { adviseHugePages(min(heapPerInputByte*size, maxAdvised)) })
	return func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	}
}

// maxAdvised bounds the heap mapped ahead (it is only address space until
// used, but a system that does not overcommit counts it).
const maxAdvised = 1 << 30

// madvHugepage is MADV_HUGEPAGE of Linux.
const madvHugepage = 14

// adviseHugePages makes the runtime map n bytes of fresh heap by
// allocating them, advises the kernel to back them with huge pages, and
// frees them for the allocations to come (the page allocator hands out
// the lowest free addresses first, and with the collector off nothing
// returns the range to the kernel meanwhile).
func adviseHugePages(n int64) {
	if runtime.GOOS != "linux" {
		return
	}
	b := make([]byte, n)
	if syscall.Madvise(b, madvHugepage) != nil {
		return
	}
	b = nil
	runtime.GC()
}

// inputSize is the size of a restore's input when it is a regular file
// (0 when unknown: a pipe).
func inputSize(in io.Reader) int64 {
	if f, ok := in.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return 0
}
