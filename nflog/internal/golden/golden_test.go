package golden

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := []Case{
		{Name: "a", Hook: "INPUT", Level: 4, Flags: 0x25, Prefix: "[INPUT] ", In: "eth0",
			MAC: []byte{0, 0x0c, 0x29, 1, 2, 3, 4, 5, 6, 7, 8, 9, 8, 0}, Mark: 0xdeadbeef,
			Packet: []byte{0x45, 0}, Line: "x \"quoted\" \x01 ログ "},
		{Name: "b", Hook: "OUTPUT", Level: 7, Out: "eth0", HasSock: true, UID: 1000, GID: 1001,
			Packet: []byte{0x60}, Line: "IN= OUT=eth0 "},
		{Name: "c", Hook: "INPUT", In: "tun0", MAC: []byte{}, Packet: []byte{0x45}, Line: "MAC= "},
	}
	var b bytes.Buffer
	if err := Write(&b, "header\nsecond line", in); err != nil {
		t.Fatal(err)
	}
	out, err := Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"hook INPUT\n",
		"== a\nlevel 9\n",
		"== a\nprefix unquoted\n",
		"== a\npacket 4z\n",
		"== a\ncolour blue\n",
	} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}
