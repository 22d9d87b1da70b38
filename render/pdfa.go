package render

import (
	_ "embed"
	"fmt"
	"html"
	"time"

	"github.com/sijill/sijill/render/internal/fpdf"
)

// srgbProfile is the sRGB ICC profile of Debian's icc-profiles-free (Zlib
// licence, srgb-LICENSE.txt): the output intent that tells a PDF/A reader
// what the DeviceRGB and DeviceGray colours of Sijill's prints mean.
//
//go:embed srgb.icc
var srgbProfile []byte

// producer names the program in the Info dictionary and in XMP alike.
const producer = "Sijill (fpdf)"

// archival makes a document a PDF/A-2b candidate: its language, the sRGB
// output intent and XMP metadata that repeat the Info dictionary (title,
// author, dates, producer) and say which PDF/A part it claims. Fonts are
// embedded subsets with ToUnicode maps, there is no transparency (the
// annulment stamp is drawn opaque) and the trailer has a file ID (see the
// fpdf changes in internal/fpdf/README.md).
func archival(pdf *fpdf.Fpdf, title, author string, now time.Time) {
	pdf.SetLang("ar")
	pdf.SetProducer(producer, true)
	pdf.AddOutputIntent(fpdf.OutputIntentType{
		SubtypeIdent:              fpdf.OutputIntent_GTS_PDFA1,
		OutputConditionIdentifier: "sRGB IEC61966-2.1",
		Info:                      "sRGB IEC61966-2.1",
		ICCProfile:                srgbProfile,
	})
	pdf.SetXmpMetadata([]byte(xmpPacket(title, author, now)))
}

// xmpPacket is the document's XMP metadata.
func xmpPacket(title, author string, now time.Time) string {
	date := now.Format("2006-01-02T15:04:05Z07:00")
	creator := ""
	if author != "" {
		creator = fmt.Sprintf(`<dc:creator><rdf:Seq><rdf:li>%s</rdf:li></rdf:Seq></dc:creator>`, html.EscapeString(author))
	}
	return `<?xpacket begin="` + "\uFEFF" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">` + html.EscapeString(title) + `</rdf:li></rdf:Alt></dc:title>
` + creator + `
<xmp:CreateDate>` + date + `</xmp:CreateDate>
<xmp:ModifyDate>` + date + `</xmp:ModifyDate>
<xmp:CreatorTool>Sijill</xmp:CreatorTool>
<pdf:Producer>` + producer + `</pdf:Producer>
<pdfaid:part>2</pdfaid:part>
<pdfaid:conformance>B</pdfaid:conformance>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`
}
