package meta

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// userDB answers getpwnam/getpwuid/getgrnam/getgrgid from passwd(5) and
// group(5) files, the way glibc's files backend does: the first entry of
// a name or id wins.
type userDB struct {
	once     sync.Once
	path     string
	byName   map[string]uint32
	byID     map[uint32]string
	firstErr error
}

var (
	passwdDB = &userDB{path: "/etc/passwd"}
	groupDB  = &userDB{path: "/etc/group"}
)

func (d *userDB) load() {
	d.once.Do(func() {
		d.byName = map[string]uint32{}
		d.byID = map[uint32]string{}
		data, err := os.ReadFile(d.path)
		if err != nil {
			d.firstErr = err
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, ":")
			if len(f) < 3 || f[0] == "" || strings.HasPrefix(f[0], "#") {
				continue
			}
			id, err := strconv.ParseUint(f[2], 10, 32)
			if err != nil {
				continue
			}
			if _, dup := d.byName[f[0]]; !dup {
				d.byName[f[0]] = uint32(id)
			}
			if _, dup := d.byID[uint32(id)]; !dup {
				d.byID[uint32(id)] = f[0]
			}
		}
	})
}

func (d *userDB) id(name string) (uint32, bool) {
	d.load()
	id, ok := d.byName[name]
	return id, ok
}

func (d *userDB) name(id uint32) string {
	d.load()
	return d.byID[id]
}
