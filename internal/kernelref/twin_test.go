package kernelref

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTwinDump writes the twin's results next to nothing in particular:
// with IPTWIN_TWIN_OUT=DIR set, DIR/NAME.twin for every scenario, to be
// compared with the goldens by hand (diff -u testdata/x.golden DIR/x.twin).
func TestTwinDump(t *testing.T) {
	out := os.Getenv("IPTWIN_TWIN_OUT")
	if out == "" {
		t.Skip("set IPTWIN_TWIN_OUT=DIR to write the twin's results")
	}
	for _, s := range scenarios(t) {
		res, err := Twin.Run(s)
		text := ""
		if err != nil {
			text = "error: " + err.Error() + "\n"
		} else {
			text = res.Text()
		}
		if err := os.WriteFile(filepath.Join(out, s.Name+".twin"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
