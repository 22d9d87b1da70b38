package index

import (
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/sijill/sijill/archive"
)

// MappingVersion names the shape of the index: fields, analysers and their
// chains. Any change to them must change it, so that Open notices an index
// built the old way and has it rebuilt.
const MappingVersion = "sijill-1"

// mappingVersionKey is where the version lives in the index's internal store.
var mappingVersionKey = []byte("sijill_mapping_version")

// Field names. Each searchable text field is indexed twice: under its own
// name with the exact analyser (stored, for highlights) and under "s." with
// the stemmed analyser. Two composite fields gather them, so a word is looked
// up once however many fields a record has; the term locations inside a
// composite still name the original field, which is how highlights find it.
const (
	fieldAll         = "all"   // composite of the stemmed fields
	fieldExact       = "exact" // composite of the exact fields
	stemPrefix       = "s."
	fieldSubject     = "subject"
	fieldBody        = "body"
	fieldFrom        = "from"
	fieldTo          = "to"
	fieldCommittee   = "committee"
	fieldTags        = "tags"
	fieldAttachments = "attachments"

	kwRegister        = "k.register"
	kwYear            = "k.year"
	kwDate            = "k.date"
	kwCommittee       = "k.committee"
	kwTag             = "k.tag"
	kwStatus          = "k.status"
	kwConfidentiality = "k.confidentiality"
	numNumber         = "n.number"
)

// textFields are the searchable text fields, in the order highlights are shown.
var textFields = []string{fieldSubject, fieldBody, fieldFrom, fieldTo, fieldCommittee, fieldTags, fieldAttachments}

const (
	optExact     = bindex.IndexField | bindex.StoreField | bindex.IncludeTermVectors
	optStemmed   = bindex.IndexField | bindex.IncludeTermVectors
	optKeyword   = bindex.IndexField | bindex.StoreField | bindex.DocValues
	optComposite = bindex.IndexField | bindex.IncludeTermVectors
)

// newMapping is the index mapping. Documents are built by buildDocument, not
// mapped from structs, so the mapping only names the default analyser; it is
// stored in the index all the same, with the analyser names in it.
func newMapping() mapping.IndexMapping {
	im := bleve.NewIndexMapping()
	im.DefaultAnalyzer = StemmedAnalyzerName
	im.DefaultMapping.Dynamic = false
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	return im
}

// buildDocument turns a record and the text of its attachments into one
// Bleve document.
func (a *textAnalyzers) buildDocument(rec *archive.Record, texts []string) *document.Document {
	doc := document.NewDocument(rec.ID)
	text := func(name string, pos []uint64, value string) {
		if value == "" {
			return
		}
		doc.AddField(document.NewTextFieldCustom(name, pos, []byte(value), optExact, a.exact))
		doc.AddField(document.NewTextFieldCustom(stemPrefix+name, pos, []byte(value), optStemmed, a.stemmed))
	}
	keyword := func(name string, pos []uint64, value string) {
		doc.AddField(document.NewTextFieldCustom(name, pos, []byte(value), optKeyword, nil))
	}
	text(fieldSubject, nil, rec.Subject)
	text(fieldBody, nil, rec.Body)
	text(fieldFrom, nil, rec.From)
	text(fieldTo, nil, rec.To)
	text(fieldCommittee, nil, rec.Committee)
	for i, tag := range rec.Tags {
		text(fieldTags, []uint64{uint64(i)}, tag)
		keyword(kwTag, []uint64{uint64(i)}, tag)
	}
	for i, t := range texts {
		text(fieldAttachments, []uint64{uint64(i)}, t)
	}

	keyword(kwRegister, nil, string(rec.Register))
	keyword(kwYear, nil, strconv.Itoa(rec.Year))
	if rec.Date != "" {
		keyword(kwDate, nil, rec.Date)
	}
	if rec.Committee != "" {
		keyword(kwCommittee, nil, rec.Committee)
	}
	status := rec.Status
	if status == "" {
		status = archive.StatusActive
	}
	keyword(kwStatus, nil, status)
	conf := rec.Confidentiality
	if conf == "" {
		conf = archive.Normal
	}
	keyword(kwConfidentiality, nil, conf)
	doc.AddField(document.NewNumericFieldWithIndexingOptions(numNumber, nil, float64(rec.Number), optKeyword))

	var exact, stemmed []string
	for _, f := range textFields {
		exact = append(exact, f)
		stemmed = append(stemmed, stemPrefix+f)
	}
	doc.AddField(document.NewCompositeFieldWithIndexingOptions(fieldExact, false, exact, nil, optComposite))
	doc.AddField(document.NewCompositeFieldWithIndexingOptions(fieldAll, false, stemmed, nil, optComposite))
	return doc
}
