// Command randgen writes the random command scripts of the differential
// tests: go run ./internal/corpus/randgen SEED N > internal/corpus/testdata/random-SEED.cmds
// (then record the goldens with scripts/record-transcripts.sh).
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/iptwin/iptwin/internal/corpus"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: randgen SEED N")
		os.Exit(2)
	}
	seed, err1 := strconv.ParseInt(os.Args[1], 10, 64)
	n, err2 := strconv.Atoi(os.Args[2])
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "usage: randgen SEED N")
		os.Exit(2)
	}
	fmt.Printf("# random commands, seed %d (go run ./internal/corpus/randgen %d %d)\n", seed, seed, n)
	for _, l := range corpus.RandomCommands(seed, n) {
		fmt.Println(l)
	}
}
