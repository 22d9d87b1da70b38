package main

import (
	"context"
	"io"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progressBar draws the progress of a long command (reindex, verify,
// import) on the terminal. It is fed from any goroutine through set, which
// mpb makes safe: its bars are updated through channels, never by a render
// loop reading fields another goroutine writes (the data race the race
// detector found in the progress bar used before).
type progressBar struct {
	p   *mpb.Progress
	bar *mpb.Bar
}

// newProgressBar starts a bar named name counting unit ("records") on w.
func newProgressBar(ctx context.Context, w io.Writer, name, unit string) *progressBar {
	p := mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithWidth(40))
	bar := p.AddBar(0,
		mpb.PrependDecorators(decor.Name(name+" ", decor.WCSyncSpaceR), decor.CountersNoUnit("%d / %d "+unit)),
		mpb.AppendDecorators(decor.AverageSpeed(0, "%.0f/s", decor.WCSyncSpace)),
	)
	return &progressBar{p: p, bar: bar}
}

// set reports done of total (0: not known yet).
func (b *progressBar) set(done, total int) {
	if total > 0 {
		b.bar.SetTotal(int64(total), false)
	}
	b.bar.SetCurrent(int64(done))
}

// finish completes the bar (or drops it if the work failed) and waits until
// it is drawn for the last time.
func (b *progressBar) finish(ok bool) {
	if ok {
		b.bar.SetTotal(-1, true)
	} else {
		b.bar.Abort(false)
	}
	b.p.Wait()
}
