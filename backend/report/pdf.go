// Package report writes the printable patient summary for referrals: a
// small PDF made here, with no dependency, in the PDF's built-in Helvetica
// fonts (WinAnsi encoding). Characters outside WinAnsi print as "?"; the
// summary is for paper, the vault keeps the exact text.
package report

import (
	"bytes"
	"fmt"
	"strings"
)

// A4 in points, and the layout.
const (
	pageW, pageH = 595.0, 842.0
	margin       = 50.0
	lineGap      = 1.35
)

// doc collects pages of text lines and writes them as a PDF.
type doc struct {
	pages [][]byte // content streams
	cur   bytes.Buffer
	y     float64
}

func newDoc() *doc {
	d := &doc{}
	d.newPage()
	return d
}

func (d *doc) newPage() {
	if d.cur.Len() > 0 {
		d.pages = append(d.pages, append([]byte(nil), d.cur.Bytes()...))
		d.cur.Reset()
	}
	d.y = pageH - margin
}

// text writes one line in font F1 (regular) or F2 (bold) at size, wrapping
// long lines at about the page width.
func (d *doc) text(font string, size float64, s string) {
	maxChars := int((pageW - 2*margin) / (size * 0.5))
	for _, line := range wrap(s, maxChars) {
		if d.y < margin+size {
			d.newPage()
		}
		d.y -= size * lineGap
		fmt.Fprintf(&d.cur, "BT /%s %.1f Tf %.1f %.1f Td (%s) Tj ET\n", font, size, margin, d.y, escape(line))
	}
}

func (d *doc) gap(h float64) { d.y -= h }

// rule draws a thin horizontal line.
func (d *doc) rule() {
	d.y -= 4
	fmt.Fprintf(&d.cur, "0.6 G 0.5 w %.1f %.1f m %.1f %.1f l S 0 G\n", margin, d.y, pageW-margin, d.y)
	d.y -= 4
}

func wrap(s string, n int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		line := ""
		for _, w := range words {
			if len(line)+1+len(w) > n && line != "" {
				out = append(out, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		out = append(out, line)
	}
	return out
}

// winAnsi maps the runes WinAnsi has beyond Latin-1's range to its bytes.
var winAnsi = map[rune]byte{'€': 0x80, '‚': 0x82, '„': 0x84, '…': 0x85, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94,
	'–': 0x96, '—': 0x97, '™': 0x99, 'Œ': 0x8c, 'œ': 0x9c, 'Š': 0x8a, 'š': 0x9a, 'Ž': 0x8e, 'ž': 0x9e, 'Ÿ': 0x9f, '•': 0x95}

// escape encodes s for a PDF literal string in WinAnsi.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		var c byte
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			c = byte(r)
		case r >= 0x20 && r < 0x7f:
			c = byte(r)
		case r >= 0xa0 && r <= 0xff:
			c = byte(r)
		default:
			if w, ok := winAnsi[r]; ok {
				c = w
			} else {
				c = '?'
			}
		}
		if c >= 0x80 {
			fmt.Fprintf(&b, "\\%03o", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// bytes writes the whole PDF with a correct cross-reference table.
func (d *doc) bytes(title string) []byte {
	if d.cur.Len() > 0 || len(d.pages) == 0 {
		d.pages = append(d.pages, append([]byte(nil), d.cur.Bytes()...))
		d.cur.Reset()
	}
	var out bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	n := len(d.pages)
	// 1 catalog, 2 pages, 3 F1, 4 F2, 5 info, then page and content pairs.
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	kids := make([]string, n)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", 6+2*i)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
	obj(fmt.Sprintf("<< /Title (%s) /Producer (Outpost) >>", escape(title)))
	for i, content := range d.pages {
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.0f %.0f] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>",
			pageW, pageH, 7+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content))
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return out.Bytes()
}
