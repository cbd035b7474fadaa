// Package kern holds the small pieces of kernel arithmetic that the packet
// semantics of several extensions share: the jiffies clock at the host's
// CONFIG_HZ, Bob Jenkins' lookup3 hash as include/linux/jhash.h has it,
// reciprocal_scale, and the time_after family. The extension packages
// (ctmatch, rate, mangle, nattarget, report) import it; nothing here
// allocates.
package kern
