package xfrm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// FileName is the database's file in a host's state directory.
const FileName = "xfrm"

// Load reads the database of the host whose state directory is dir (an
// empty one when none was saved yet).
func Load(dir string) (*DB, error) {
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return NewDB(), nil
	}
	if err != nil {
		return nil, err
	}
	db, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("state file %s is damaged: %v", path, err)
	}
	return db, nil
}

// Decode reads a database from its JSON form.
func Decode(data []byte) (*DB, error) {
	db := NewDB()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(db); err != nil {
		return nil, err
	}
	for i, s := range db.States {
		if s == nil {
			return nil, fmt.Errorf("state %d is null", i)
		}
		if err := s.prepare(); err != nil {
			return nil, fmt.Errorf("state %d (spi 0x%08x): %s", i, s.SPI, err.Msg)
		}
	}
	for i, p := range db.Policies {
		if p == nil {
			return nil, fmt.Errorf("policy %d is null", i)
		}
		if p.Dir >= numDirs && !p.Dir.Socket() || p.Type > TypeSub || len(p.Tmpls) > MaxDepth {
			return nil, fmt.Errorf("policy %d is invalid", i)
		}
	}
	db.reindex()
	return db, nil
}

// Encode is the database's JSON form.
func (db *DB) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(db, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save writes the database into the state directory dir atomically (a
// temporary file renamed over the old one).
func (db *DB) Save(dir string) error {
	data, err := db.Encode()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, FileName)
	tmp, err := os.CreateTemp(dir, "."+FileName+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
