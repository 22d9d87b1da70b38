package main

import (
	"flag"
	"io"
	"net"
	"net/url"
)

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func urlQuery(s string) string { return url.QueryEscape(s) }
