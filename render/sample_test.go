package render

import (
	"iter"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/render/internal/sample"
)

// sampleRecords yields n records of the outgoing register of 2026 like the
// secretariat writes them: mixed Arabic, digits, dates, Latin, brackets, «».
func sampleRecords(n int) iter.Seq2[*archive.Record, error] { return sample.Records(n) }
