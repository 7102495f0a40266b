package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Event is one server-sent event of GET /events.
type Event struct {
	Type string // the event field; "message" when the server sent none
	Data string // the data lines, joined with "\n"
	// ID is the last event id the stream has carried (this event's, or an earlier one's); the
	// reader sends it back as Last-Event-ID when it reconnects.
	ID string
	// Retry is the reconnection delay the server asked for in this event, if it did.
	Retry time.Duration
}

// Decode unmarshals the event's JSON data into v. The events of GET /events carry a
// DashboardSummary.
func (e Event) Decode(v any) error { return json.Unmarshal([]byte(e.Data), v) }

// EventsService reads the live event stream.
type EventsService service

// errStreamEnded is what a connection that the server closed is reported as.
var errStreamEnded = errors.New("the server ended the event stream")

// Stream follows GET /events (server-sent events) until ctx ends or the caller stops
// iterating. A dropped connection is reopened after a backoff (or the server's retry delay),
// with Last-Event-ID, within the client's retry policy: after MaxAttempts connections in a
// row that bring nothing, the last error is yielded and the stream ends. Answers that no wait
// will change (401, 403…) end it at once with their *APIError. Comments (": ping") are
// skipped. When ctx ends, its error is yielded last.
func (s *EventsService) Stream(ctx context.Context, editors ...RequestEditorFn) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var (
			lastID   string
			delay    time.Duration // the server's retry field, when it sent one
			failures int
		)
		for {
			resume := func(_ context.Context, r *http.Request) error {
				r.Header.Set("Accept", "text/event-stream")
				if lastID != "" {
					r.Header.Set("Last-Event-ID", lastID)
				}
				return nil
			}
			resp, err := s.c.stream.StreamEvents(ctx, append(editors[:len(editors):len(editors)], resume)...)
			var wait time.Duration
			if err == nil {
				var progressed, stop bool
				progressed, stop, wait, err = s.consume(resp, &lastID, &delay, yield)
				if stop {
					return
				}
				if progressed {
					failures = 0
				}
			}
			if ctx.Err() != nil {
				yield(Event{}, context.Cause(ctx))
				return
			}
			failures++
			if failures >= s.c.retry.MaxAttempts {
				yield(Event{}, fmt.Errorf("secumon: event stream: %w", err))
				return
			}
			if wait == 0 {
				wait = delay
			}
			if wait == 0 {
				wait = s.c.retry.backoff(failures - 1)
			}
			if sleep(ctx, wait) != nil {
				yield(Event{}, context.Cause(ctx))
				return
			}
		}
	}
}

// consume reads one connection's events. progressed says whether the connection brought
// anything; stop that the stream is over (the caller stopped, or a final error was yielded);
// wait is how long the server asked to wait before reconnecting; err why the connection ended.
func (s *EventsService) consume(resp *http.Response, lastID *string, delay *time.Duration, yield func(Event, error) bool) (progressed, stop bool, wait time.Duration, err error) {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		apiErr := errorFrom(resp)
		if !transient(resp, resp.Request) {
			yield(Event{}, apiErr)
			return false, true, 0, apiErr
		}
		return false, false, apiErr.RetryAfter, apiErr
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		err := fmt.Errorf("secumon: GET /events answered %q, not text/event-stream", resp.Header.Get("Content-Type"))
		yield(Event{}, err)
		return false, true, 0, err
	}
	r := newEventReader(resp.Body, *lastID)
	for {
		ev, err := r.next()
		progressed = progressed || r.seen
		*lastID = r.lastID
		if r.retry > 0 {
			*delay = r.retry
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errStreamEnded
			}
			return progressed, false, 0, err
		}
		if !yield(ev, nil) {
			return progressed, true, 0, nil
		}
	}
}

// maxEventLine bounds one line of the stream.
const maxEventLine = 1 << 20

// eventReader parses the text/event-stream format (the WHATWG HTML "server-sent events"
// rules): lines end with \n, \r\n or \r; a blank line dispatches the event; lines starting
// with ':' are comments; "field: value" sets event, data, id or retry; other fields are
// ignored.
type eventReader struct {
	lines *bufio.Scanner
	// lastID is the id of the last event dispatched, which a reconnection resumes after;
	// idBuf the latest id field, which becomes lastID only when its event is complete, so
	// that an event cut off with the connection is asked for again.
	lastID, idBuf string
	retry         time.Duration // the latest retry field
	seen          bool          // anything at all was read
}

func newEventReader(r io.Reader, lastID string) *eventReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxEventLine)
	sc.Split(scanEventLines)
	return &eventReader{lines: sc, lastID: lastID, idBuf: lastID}
}

// next returns the next event; at the end of the stream, an event without its blank line is
// dropped, as the format says.
func (r *eventReader) next() (Event, error) {
	var (
		data    strings.Builder
		hasData bool
		typ     string
		retry   time.Duration
	)
	for r.lines.Scan() {
		r.seen = true
		line := r.lines.Text()
		if line == "" {
			r.lastID = r.idBuf
			if !hasData {
				typ, retry = "", 0
				continue
			}
			if typ == "" {
				typ = "message"
			}
			return Event{Type: typ, Data: strings.TrimSuffix(data.String(), "\n"), ID: r.lastID, Retry: retry}, nil
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			typ = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				r.idBuf = value
			}
		case "retry":
			if ms, err := strconv.ParseUint(value, 10, 32); err == nil && value != "" {
				retry = time.Duration(ms) * time.Millisecond
				r.retry = retry
			}
		}
	}
	if err := r.lines.Err(); err != nil {
		return Event{}, err
	}
	return Event{}, io.EOF
}

// scanEventLines splits on \n, \r\n or a lone \r.
func scanEventLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		// A \r: it may be the first half of \r\n, which can straddle two reads.
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}
