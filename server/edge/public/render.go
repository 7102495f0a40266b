package public

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"fmt"
	"html/template"
	"strings"
	"time"

	gen "github.com/secuaas/secumon/gen/public"
)

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"stateText":   stateText,
	"overallText": overallText,
	"when":        func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"iso":         func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(pageSource))

var stateTexts = map[gen.ComponentState]string{
	gen.Operational: "Operational", gen.Degraded: "Degraded", gen.Outage: "Outage",
	gen.Maintenance: "Maintenance", gen.Unknown: "No data",
}

func stateText(s gen.ComponentState) string { return stateTexts[s] }

func overallText(s gen.ComponentState) string {
	switch s {
	case gen.Operational:
		return "All systems operational"
	case gen.Degraded:
		return "Some systems are degraded"
	case gen.Outage:
		return "Some systems are down"
	case gen.Maintenance:
		return "Maintenance in progress"
	}
	return "No data yet"
}

// pageView is what the HTML template reads.
type pageView struct {
	gen.PublicStatus
	Base   string // path of the page, for its relative links
	Groups []groupView
}

type groupView struct {
	Name       string
	Components []componentView
}

type componentView struct {
	gen.PublicComponent
	Uptime string
	Days   []dayView
}

type dayView struct{ Class, Title string }

// renderHTML is the page; components keep their order and gather under their group's
// heading where the group first appears.
func renderHTML(st gen.PublicStatus) ([]byte, error) {
	v := pageView{PublicStatus: st, Base: "/status/" + st.Slug}
	index := map[string]int{}
	for _, c := range st.Components {
		group := ""
		if c.Group != nil {
			group = *c.Group
		}
		i, ok := index[group]
		if !ok {
			i = len(v.Groups)
			index[group] = i
			v.Groups = append(v.Groups, groupView{Name: group})
		}
		cv := componentView{PublicComponent: c, Uptime: uptimeText(c.UptimePct) + " uptime", Days: make([]dayView, len(c.Daily))}
		for j, d := range c.Daily {
			cv.Days[j] = dayView{Class: dayClass(d.UptimePct), Title: d.Date.Format("2 Jan 2006") + ": " + uptimeText(d.UptimePct)}
		}
		v.Groups[i].Components = append(v.Groups[i].Components, cv)
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func uptimeText(p *float64) string {
	if p == nil {
		return "no data"
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", *p), "0"), ".0") + "%"
}

func dayClass(p *float64) string {
	switch {
	case p == nil:
		return "none"
	case *p >= 100:
		return "u100"
	case *p >= 99:
		return "u99"
	case *p >= 95:
		return "u95"
	}
	return "u0"
}

// Badge colours, shields.io's palette.
var badgeColors = map[gen.ComponentState]string{
	gen.Operational: "#4c1", gen.Degraded: "#dfb317", gen.Outage: "#e05d44",
	gen.Maintenance: "#007ec6", gen.Unknown: "#9f9f9f",
}

// renderBadge is a shields-style flat badge: label on grey, message on the state's colour.
// Text widths are estimated (Verdana 11px averages about 7px a character), which is what
// shields-like badges without font metrics do.
func renderBadge(label, message string, state gen.ComponentState) []byte {
	lw, mw := textWidth(label)+10, textWidth(message)+10
	w := lw + mw
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	l, m := esc(label), esc(message)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`, w, l, m)
	fmt.Fprintf(&b, `<title>%s: %s</title>`, l, m)
	b.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, w)
	fmt.Fprintf(&b, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`,
		lw, lw, mw, badgeColors[state], w)
	b.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	fmt.Fprintf(&b, `<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>`, lw/2, l, lw/2, l)
	fmt.Fprintf(&b, `<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>`, lw+mw/2, m, lw+mw/2, m)
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

func textWidth(s string) int { return 7 * len([]rune(s)) }

// badgeMessage is the state, with the uptime over the page's history when known.
func badgeMessage(state gen.ComponentState, uptime *float64) string {
	msg := strings.ToLower(stateText(state))
	if uptime != nil {
		msg += " · " + uptimeText(uptime)
	}
	return msg
}

// RSS 2.0 (https://www.rssboard.org/rss-specification), written with encoding/xml so that
// it is well-formed whatever the titles hold.
type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate"`
	TTL           int       `xml:"ttl"`
	Self          atomLink  `xml:"atom:link"`
	Items         []rssItem `xml:"item"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	Description string  `xml:"description"`
	Category    string  `xml:"category"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

// renderRSS is the feed of the snapshot's incidents and maintenance windows, newest change
// first. Links are absolute, as RSS requires, on base (scheme and host of the request).
func renderRSS(s *snapshot, base string) ([]byte, error) {
	page := base + "/status/" + s.page.Slug
	desc := s.page.Description
	if desc == "" {
		desc = "Incidents and maintenance of " + s.page.Title
	}
	ch := rssChannel{
		Title: s.page.Title, Link: page, Description: desc, Language: "en",
		LastBuildDate: s.status.GeneratedAt.Format(time.RFC1123Z), TTL: 1,
		Self:  atomLink{Href: page + "/rss", Rel: "self", Type: "application/rss+xml"},
		Items: make([]rssItem, len(s.feed)),
	}
	for i, f := range s.feed {
		title := f.title
		text := f.text
		if f.kind == "maintenance" {
			title = "Maintenance: " + title
			if text == "" {
				text = fmt.Sprintf("From %s to %s.", f.started.Format(time.RFC1123Z), f.ends.Format(time.RFC1123Z))
			}
		}
		if text == "" {
			text = title
		}
		ch.Items[i] = rssItem{
			Title:       fmt.Sprintf("[%s] %s", f.status, title),
			Link:        fmt.Sprintf("%s#%s-%s", page, f.kind, f.id),
			Description: text,
			Category:    f.kind,
			// One GUID per state of the entry, so that readers show each change.
			GUID:    rssGUID{Value: fmt.Sprintf("%s-%s-%d", f.kind, f.id, f.at.Unix())},
			PubDate: f.at.Format(time.RFC1123Z),
		}
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", " ")
	if err := enc.Encode(rssDoc{Version: "2.0", Atom: "http://www.w3.org/2005/Atom", Channel: ch}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
