// Command bench measures Sijill's search against PostgreSQL full-text search
// on a synthetic Arabic archive built from the corpus vocabulary.
//
//	go run ./index/bench -n 10000
//	go run ./index/bench -n 100000
//
// It generates n records of about 2 KB (runs of consecutive words taken from
// the real documents in -corpus, so phrases occur as they do in real text),
// bulk-indexes them with index.Rebuild, loads the same records into a
// PostgreSQL 15 cluster it creates itself (initdb and pg_ctl in a temporary
// directory, a unix socket, no TCP; as the postgres user when run as root)
// with a GIN index over to_tsvector('arabic', ...), then runs the same
// queries on both and prints p50/p99 latencies side by side.
//
// Query classes: a single word (any word of four letters or more of the
// vocabulary), a single common word (weighted by corpus frequency), a phrase
// of two adjacent corpus words, three words of one paragraph with a register
// filter and facets, and a four-letter prefix. Both sides compute, per
// query, the top 20 hits and the total; Sijill also always computes its
// three facets (register, year, committee) and highlights, PostgreSQL
// computes facets only for the class that asks for them (in the same single
// statement). Confidential records are filtered out on both sides.
//
// Besides wall-clock p50/p99 it prints the CPU time Sijill used per query
// and per indexed record, and the load average, since other work on the
// same cores slows wall-clock figures down.
//
// -index DIR keeps Sijill's index between runs (rebuilt when the mapping
// version, n or the seed changed), to profile queries without re-indexing;
// -cpuprofile PREFIX writes a profile of indexing and of each query class;
// -slowest N prints each class's N slowest queries with their hits.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/lib/pq"

	"github.com/sijill/sijill/archive"
	"github.com/sijill/sijill/index"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	n       int
	queries int
	corpus  string
	pgBin   string
	keep    bool
	noPG    bool
	seed    uint64
	profile string
	reuse   string
	slowest int
}

func run() error {
	var c config
	flag.IntVar(&c.n, "n", 10000, "records to generate")
	flag.IntVar(&c.queries, "queries", 200, "timed queries per class")
	flag.StringVar(&c.corpus, "corpus", "/work/shared/corpus", "directory of .txt documents giving the vocabulary")
	flag.StringVar(&c.pgBin, "pgbin", "/usr/lib/postgresql/15/bin", "directory of initdb and pg_ctl (Debian package postgresql)")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary directory")
	flag.BoolVar(&c.noPG, "nopg", false, "skip PostgreSQL")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.StringVar(&c.profile, "cpuprofile", "", "write CPU profiles of indexing and of Sijill's queries to this prefix")
	flag.StringVar(&c.reuse, "index", "", "directory of a Sijill index to keep between runs: reused when it holds the n records of this seed and mapping version, (re)built otherwise")
	flag.IntVar(&c.slowest, "slowest", 0, "print the n slowest Sijill queries of each class, with their hits")
	flag.Parse()
	ctx := context.Background()

	paras, err := readCorpus(c.corpus)
	if err != nil {
		return err
	}
	gen := newGenerator(paras, c.seed)
	recs := make([]*archive.Record, c.n)
	var bytes int
	for i := range recs {
		recs[i] = gen.record(i)
		bytes += len(recs[i].Subject) + len(recs[i].Body)
	}
	fmt.Printf("records: %d, average %d bytes of text\n", c.n, bytes/c.n)

	tmp, err := os.MkdirTemp("", "sijill-bench-")
	if err != nil {
		return err
	}
	if !c.keep {
		defer os.RemoveAll(tmp)
	} else {
		fmt.Println("keeping", tmp)
	}

	// Sijill.
	ixDir := filepath.Join(tmp, "index")
	if c.reuse != "" {
		ixDir = c.reuse
	}
	ix, err := index.Open(ixDir, index.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer ix.Close()
	if err := indexRecords(ctx, c, ix, ixDir, recs); err != nil {
		return err
	}

	classes := gen.queryClasses(c.queries)

	// PostgreSQL.
	var pg *postgres
	if !c.noPG {
		pg, err = startPostgres(ctx, c.pgBin, filepath.Join(tmp, "pg"))
		if err != nil {
			return err
		}
		defer pg.stop()
		start := time.Now()
		if err := pg.load(ctx, recs); err != nil {
			return err
		}
		fmt.Printf("postgres: load + GIN index %d records in %s: %.0f records/s\n", c.n, time.Since(start).Round(time.Millisecond), float64(c.n)/time.Since(start).Seconds())
	}

	fmt.Printf("load average before the queries: %s", loadavg())
	fmt.Printf("\n%-28s %10s %10s %10s %10s %10s %9s %9s %9s\n", "query class", "sijill cpu", "sijill p50", "p99", "pg p50", "p99", "pg/s p50", "pg/s p99", "hits avg")
	for _, cl := range classes {
		stopProfile := startProfile(c.profile, strings.ReplaceAll(strings.Fields(cl.name)[0], " ", "_"))
		cpu0 := cpuTime()
		sl, hits, err := timeSijill(ctx, ix, cl, c.slowest)
		cpuPerQuery := (cpuTime() - cpu0) / time.Duration(len(cl.queries)+min(20, len(cl.queries)))
		stopProfile()
		if err != nil {
			return fmt.Errorf("%s: %w", cl.name, err)
		}
		line := fmt.Sprintf("%-28s %10s %10s %10s", cl.name, ms(cpuPerQuery), ms(pct(sl, 50)), ms(pct(sl, 99)))
		if pg != nil {
			pl, pgHits, err := pg.time(ctx, cl)
			if err != nil {
				return fmt.Errorf("postgres %s: %w", cl.name, err)
			}
			line += fmt.Sprintf(" %10s %10s %8.1fx %8.1fx %5d/%d", ms(pct(pl, 50)), ms(pct(pl, 99)),
				float64(pct(pl, 50))/float64(pct(sl, 50)), float64(pct(pl, 99))/float64(pct(sl, 99)), hits, pgHits)
		} else {
			line += fmt.Sprintf(" %10s %10s %9s %9s %9d", "-", "-", "-", "-", hits)
		}
		fmt.Println(line)
	}
	fmt.Printf("load average after the queries: %s", loadavg())
	return nil
}

// indexRecords bulk-indexes recs into ix and prints the rate, unless ix
// is a reused index (-index) that already holds them.
func indexRecords(ctx context.Context, c config, ix *index.Index, dir string, recs []*archive.Record) error {
	stamp := filepath.Join(dir, "bench-"+strconv.Itoa(c.n)+"-"+strconv.FormatUint(c.seed, 10))
	if c.reuse != "" && !ix.NeedsRebuild() {
		if _, err := os.Stat(stamp); err == nil {
			fmt.Printf("sijill: reusing the index in %s\n", dir)
			return nil
		}
	}
	stopProfile := startProfile(c.profile, "index")
	cpu0 := cpuTime()
	start := time.Now()
	if err := ix.Rebuild(ctx, sliceSource(recs), nil); err != nil {
		return err
	}
	took := time.Since(start)
	cpu := cpuTime() - cpu0
	stopProfile()
	fmt.Printf("sijill: bulk indexing %d records in %s: %.0f records/s; %.1f CPU-seconds, %.0f records per CPU-second\n",
		c.n, took.Round(time.Millisecond), float64(c.n)/took.Seconds(), cpu.Seconds(), float64(c.n)/cpu.Seconds())
	idxSize := dirSize(dir)
	fmt.Printf("sijill: index size %.1f MB\n", float64(idxSize)/1e6)

	if c.reuse != "" {
		if err := os.WriteFile(stamp, nil, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cpuTime is the CPU time this process has used, user and system: a figure
// that other work on the machine disturbs less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadavg reports the machine's load: figures taken while other work runs
// on the same cores are slower than the code is.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown\n"
	}
	return string(b)
}

// startProfile starts a CPU profile to prefix-name.pprof, if prefix is set.
func startProfile(prefix, name string) func() {
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(prefix + "-" + name + ".pprof")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// sliceSource serves generated records to index.Rebuild.
type sliceSource []*archive.Record

func (s sliceSource) ReadAll(ctx context.Context) iter.Seq2[archive.Stored, error] {
	return func(yield func(archive.Stored, error) bool) {
		for _, r := range s {
			if !yield(archive.Stored{Record: r, ETag: "bench"}, nil) {
				return
			}
		}
	}
}

func (s sliceSource) TextsOf(context.Context, *archive.Record) ([]string, []string, error) {
	return nil, nil, nil
}

func (s sliceSource) CountRecords(context.Context) (int, error) { return len(s), nil }

// readCorpus returns the documents' paragraphs as word lists.
func readCorpus(dir string) ([][]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no corpus in %s (flag -corpus): %v", dir, err)
	}
	var paras [][]string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			var words []string
			for _, w := range strings.Fields(line) {
				w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
				if w != "" {
					words = append(words, w)
				}
			}
			if len(words) >= 5 {
				paras = append(paras, words)
			}
		}
	}
	return paras, nil
}

type generator struct {
	rng   *rand.Rand
	paras [][]string
	words []string // every corpus word occurrence, so sampling follows frequency
}

func newGenerator(paras [][]string, seed uint64) *generator {
	g := &generator{rng: rand.New(rand.NewPCG(seed, seed+1)), paras: paras}
	for _, p := range paras {
		g.words = append(g.words, p...)
	}
	return g
}

var committees = []string{"المكتب السياسي", "المجلس الوطني", "الأمانة العامة", "لجنة المالية", "لجنة التنظيم", "لجنة الإعلام", ""}

// run returns k consecutive corpus words from a random place.
func (g *generator) run(k int) []string {
	p := g.paras[g.rng.IntN(len(g.paras))]
	if k > len(p) {
		k = len(p)
	}
	i := g.rng.IntN(len(p) - k + 1)
	return p[i : i+k]
}

func (g *generator) record(i int) *archive.Record {
	regs := archive.Registers()
	reg := regs[i%len(regs)]
	year := 2015 + g.rng.IntN(10)
	var body strings.Builder
	for body.Len() < 1900 {
		body.WriteString(strings.Join(g.run(5+g.rng.IntN(11)), " "))
		body.WriteString(". ")
	}
	conf := archive.Normal
	if g.rng.IntN(20) == 0 {
		conf = archive.Confidential
	}
	return &archive.Record{
		ID: archive.RecordID(reg, year, i+1), Register: reg, Year: year, Number: i + 1,
		Date:            fmt.Sprintf("%d-%02d-%02d", year, 1+g.rng.IntN(12), 1+g.rng.IntN(28)),
		Subject:         strings.Join(g.run(6+g.rng.IntN(6)), " "),
		Body:            body.String(),
		Committee:       committees[g.rng.IntN(len(committees))],
		Confidentiality: conf, Status: archive.StatusActive,
	}
}

type benchQuery struct {
	text     string // Sijill's query language
	pg       string // tsquery constructor call with $1
	pgArg    string
	register string
}

type queryClass struct {
	name    string
	facets  bool
	queries []benchQuery
}

// vocabulary returns the distinct words of four letters or more: a typical
// search is for any word of the vocabulary, not weighted by how often the
// documents use it.
func (g *generator) vocabulary() []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range g.words {
		if len([]rune(w)) >= 4 && !unicode.IsDigit([]rune(w)[0]) && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// content picks a corpus word worth searching for (four letters or more),
// weighted by its frequency in the corpus: mostly common words.
func (g *generator) content() string {
	for {
		w := g.words[g.rng.IntN(len(g.words))]
		if len([]rune(w)) >= 4 && !unicode.IsDigit([]rune(w)[0]) {
			return w
		}
	}
}

func (g *generator) queryClasses(n int) []queryClass {
	single := queryClass{name: "single word"}
	common := queryClass{name: "single common word"}
	vocab := g.vocabulary()
	phrase := queryClass{name: "phrase (2 words)"}
	three := queryClass{name: "3 words + register + facets", facets: true}
	prefix := queryClass{name: "prefix (4 letters)"}
	regs := archive.Registers()
	for len(single.queries) < n {
		w := vocab[g.rng.IntN(len(vocab))]
		single.queries = append(single.queries, benchQuery{text: w, pg: "plainto_tsquery('arabic', $1)", pgArg: w})
		w = g.content()
		common.queries = append(common.queries, benchQuery{text: w, pg: "plainto_tsquery('arabic', $1)", pgArg: w})

		var pw []string
		for {
			pw = g.run(2)
			if len([]rune(pw[0])) >= 3 && len([]rune(pw[1])) >= 3 {
				break
			}
		}
		ps := strings.Join(pw, " ")
		phrase.queries = append(phrase.queries, benchQuery{text: `"` + ps + `"`, pg: "phraseto_tsquery('arabic', $1)", pgArg: ps})

		p := g.paras[g.rng.IntN(len(g.paras))]
		var tw []string
		for len(tw) < 3 {
			w := p[g.rng.IntN(len(p))]
			if len([]rune(w)) >= 4 && !slices.Contains(tw, w) {
				tw = append(tw, w)
			}
		}
		ts := strings.Join(tw, " ")
		three.queries = append(three.queries, benchQuery{text: ts, pg: "plainto_tsquery('arabic', $1)", pgArg: ts, register: string(regs[g.rng.IntN(len(regs))])})

		var pre []rune
		for {
			w := strings.TrimPrefix(g.content(), "ال")
			if r := []rune(w); len(r) >= 6 {
				pre = r[:4]
				break
			}
		}
		prefix.queries = append(prefix.queries, benchQuery{text: string(pre) + "*", pg: "to_tsquery('arabic', $1)", pgArg: string(pre) + ":*"})
	}
	return []queryClass{single, common, phrase, three, prefix}
}

func timeSijill(ctx context.Context, ix *index.Index, cl queryClass, slowest int) ([]time.Duration, int, error) {
	run := func(q benchQuery) (int, error) {
		res, err := ix.Search(ctx, index.Query{Text: q.text, Register: q.register, Size: 20})
		if err != nil {
			return 0, err
		}
		return int(res.Total), nil
	}
	for _, q := range cl.queries[:min(20, len(cl.queries))] { // warm up
		if _, err := run(q); err != nil {
			return nil, 0, err
		}
	}
	var ds []time.Duration
	hits := 0
	type timed struct {
		d    time.Duration
		text string
		hits int
	}
	var all []timed
	for _, q := range cl.queries {
		start := time.Now()
		n, err := run(q)
		if err != nil {
			return nil, 0, fmt.Errorf("%q: %w", q.text, err)
		}
		ds = append(ds, time.Since(start))
		all = append(all, timed{ds[len(ds)-1], q.text, n})
		hits += n
	}
	if slowest > 0 {
		slices.SortFunc(all, func(a, b timed) int { return int(b.d - a.d) })
		for _, t := range all[:min(slowest, len(all))] {
			fmt.Printf("  slow: %s %q %d hits\n", ms(t.d), t.text, t.hits)
		}
	}
	return ds, hits / len(cl.queries), nil
}

// postgres is a throw-away PostgreSQL cluster on a unix socket.
type postgres struct {
	bin, dir string
	asUser   string
	db       *sql.DB
}

func (p *postgres) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	if p.asUser != "" {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", p.asUser, "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

func startPostgres(ctx context.Context, bin, dir string) (*postgres, error) {
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		return nil, fmt.Errorf("PostgreSQL server not found in %s (install the Debian package postgresql, or pass -pgbin; -nopg skips it): %w", bin, err)
	}
	p := &postgres{bin: bin, dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user to run the server: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chown(d, uid, gid); err != nil {
				return nil, err
			}
		}
		p.asUser = "postgres"
	}
	data := filepath.Join(dir, "data")
	if out, err := p.cmd(ctx, "initdb", "-D", data, "-U", "bench", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-k %s -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=512MB", dir)
	if out, err := p.cmd(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "start").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	db, err := sql.Open("postgres", fmt.Sprintf("host=%s user=bench dbname=postgres sslmode=disable", dir))
	if err != nil {
		p.stop()
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		p.stop()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	p.db = db
	return p, nil
}

func (p *postgres) stop() {
	if p.db != nil {
		p.db.Close()
	}
	out, err := p.cmd(context.Background(), "pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "fast", "-w", "stop").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pg_ctl stop: %v\n%s", err, out)
	}
}

func (p *postgres) load(ctx context.Context, recs []*archive.Record) error {
	if _, err := p.db.ExecContext(ctx, `CREATE TABLE recs (
		id text PRIMARY KEY, register text, year int, number int, date date, subject text, body text,
		committee text, confidentiality text,
		tsv tsvector GENERATED ALWAYS AS (to_tsvector('arabic', coalesce(subject, '') || ' ' || coalesce(body, '') || ' ' || coalesce(committee, ''))) STORED)`); err != nil {
		return err
	}
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	stmt, err := tx.Prepare(pq.CopyIn("recs", "id", "register", "year", "number", "date", "subject", "body", "committee", "confidentiality"))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := stmt.Exec(r.ID, string(r.Register), r.Year, r.Number, r.Date, r.Subject, r.Body, r.Committee, r.Confidentiality); err != nil {
			return err
		}
	}
	if _, err := stmt.Exec(); err != nil {
		return err
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, s := range []string{
		"CREATE INDEX recs_tsv ON recs USING gin (tsv)",
		"CREATE INDEX recs_register ON recs (register)",
		"VACUUM ANALYZE recs",
	} {
		if _, err := p.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// sql returns one statement computing, in one pass over the matches, the
// total, the top 20 by ts_rank and, if facets, the register, year and
// committee counts.
func (p *postgres) sql(q benchQuery, facets bool) string {
	filter := "confidentiality = 'normal'"
	if q.register != "" {
		filter += " AND register = $2"
	}
	s := `WITH q AS (SELECT ` + q.pg + ` AS q),
	m AS MATERIALIZED (SELECT id, register, year, committee, ts_rank(tsv, q.q) AS r FROM recs, q WHERE tsv @@ q.q AND ` + filter + `)
	SELECT (SELECT count(*) FROM m),
	       (SELECT array_agg(id) FROM (SELECT id FROM m ORDER BY r DESC LIMIT 20) t)`
	if facets {
		s += `,
	       (SELECT json_object_agg(register, c) FROM (SELECT register, count(*) c FROM m GROUP BY 1) f)::text,
	       (SELECT json_object_agg(year, c) FROM (SELECT year, count(*) c FROM m GROUP BY 1) f)::text,
	       (SELECT json_object_agg(coalesce(committee, ''), c) FROM (SELECT committee, count(*) c FROM m GROUP BY 1) f)::text`
	}
	return s
}

func (p *postgres) time(ctx context.Context, cl queryClass) ([]time.Duration, int, error) {
	run := func(q benchQuery) (int, error) {
		args := []any{q.pgArg}
		if q.register != "" {
			args = append(args, q.register)
		}
		var total int
		var top, f1, f2, f3 sql.NullString
		dest := []any{&total, &top}
		if cl.facets {
			dest = append(dest, &f1, &f2, &f3)
		}
		err := p.db.QueryRowContext(ctx, p.sql(q, cl.facets), args...).Scan(dest...)
		return total, err
	}
	for _, q := range cl.queries[:min(20, len(cl.queries))] {
		if _, err := run(q); err != nil {
			return nil, 0, fmt.Errorf("%q: %w", q.pgArg, err)
		}
	}
	var ds []time.Duration
	hits := 0
	for _, q := range cl.queries {
		start := time.Now()
		n, err := run(q)
		if err != nil {
			return nil, 0, fmt.Errorf("%q: %w", q.pgArg, err)
		}
		ds = append(ds, time.Since(start))
		hits += n
	}
	return ds, hits / len(cl.queries), nil
}
