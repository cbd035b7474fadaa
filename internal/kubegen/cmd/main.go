// Command kubegen prints a kube-proxy-shaped ruleset of about N rules:
// go run ./internal/kubegen/cmd N > rules
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/iptwin/iptwin/internal/kubegen"
)

func main() {
	n := 100000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 1 {
			fmt.Fprintln(os.Stderr, "usage: kubegen [RULES]")
			os.Exit(2)
		}
		n = v
	}
	if err := kubegen.Generate(os.Stdout, n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
