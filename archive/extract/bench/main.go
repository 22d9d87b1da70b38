// Command bench measures text extraction: pages per minute at 1 and 2
// workers, and search latency while OCR runs against idle. With -measure it
// compares OCR resolutions and page segmentation modes on a printed page.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
)

func main() {
	measureOnly := flag.Bool("measure", false, "compare OCR resolutions and page segmentation modes")
	flag.Parse()
	ctx := context.Background()
	if *measureOnly {
		if err := measure(ctx, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
}
