//go:build !linux

package kernelref

import "errors"

// KernelAvailable says why the kernel runner cannot run here.
func KernelAvailable() string { return "the kernel runner needs Linux" }

// Kernel runs scenarios against the real kernel; only on Linux.
type Kernel struct{}

// Run fails: there is no Linux kernel here.
func (k *Kernel) Run(s *Scenario) (*Result, error) { return nil, errors.New(KernelAvailable()) }
