package main

import (
	"bytes"
	"errors"
	"strconv"
	"syscall"
)

// kmsg reads the kernel log through /dev/kmsg: one record per read, with
// its level, and the text as the kernel stored it.
type kmsg struct{ fd int }

type kmsgRecord struct {
	level uint8
	text  string
}

func openKmsg() (*kmsg, error) {
	fd, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	return &kmsg{fd: fd}, nil
}

// skip moves past everything logged so far.
func (k *kmsg) skip() error {
	_, err := syscall.Seek(k.fd, 0, 2) // SEEK_END: the next record to come
	return err
}

// read returns the records logged since the last skip or read.
func (k *kmsg) read() ([]kmsgRecord, error) {
	var out []kmsgRecord
	buf := make([]byte, 8192)
	for {
		n, err := syscall.Read(k.fd, buf)
		if errors.Is(err, syscall.EAGAIN) {
			return out, nil
		}
		if errors.Is(err, syscall.EPIPE) { // overwritten before we read it
			continue
		}
		if err != nil {
			return out, err
		}
		if r, ok := parseKmsg(buf[:n]); ok {
			out = append(out, r)
		}
	}
}

// parseKmsg parses "prio,seq,usec,flags;text\n[ KEY=value\n...]" and
// undoes the \xNN escapes /dev/kmsg applies to bytes outside ' '..'~'
// and to the backslash.
func parseKmsg(b []byte) (kmsgRecord, bool) {
	semi := bytes.IndexByte(b, ';')
	if semi < 0 {
		return kmsgRecord{}, false
	}
	head := b[:semi]
	comma := bytes.IndexByte(head, ',')
	if comma < 0 {
		return kmsgRecord{}, false
	}
	prio, err := strconv.Atoi(string(head[:comma]))
	if err != nil {
		return kmsgRecord{}, false
	}
	text := b[semi+1:]
	if nl := bytes.IndexByte(text, '\n'); nl >= 0 {
		text = text[:nl]
	}
	var out []byte
	for i := 0; i < len(text); i++ {
		if text[i] == '\\' && i+3 < len(text) && text[i+1] == 'x' {
			if v, err := strconv.ParseUint(string(text[i+2:i+4]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 3
				continue
			}
		}
		out = append(out, text[i])
	}
	return kmsgRecord{level: uint8(prio & 7), text: string(out)}, true
}
