//go:build !linux

package extract

func niced(fn func() error) error { return fn() }

func nicePID(int) {}
