// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on loopback for
// tests: it keeps what it receives, refuses recipients at refused.test with 550 and, with a
// password set, wants AUTH PLAIN first.
package smtptest

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Sink is the running server.
type Sink struct {
	Port           int
	Got            chan Envelope // every accepted message, in order
	User, Password string        // set before use to require authentication
}

// Envelope is one received message.
type Envelope struct {
	From string
	To   []string
	Data []byte
}

// Start runs a sink on a free loopback port until t ends.
func Start(t testing.TB) *Sink { return StartAt(t, 0) }

// StartAt runs a sink on 127.0.0.1:port until t ends.
func StartAt(t testing.TB, port int) *Sink {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	sink := &Sink{Port: l.Addr().(*net.TCPAddr).Port, Got: make(chan Envelope, 100)}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback only
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(l) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return sink
}

// NewSession implements smtp.Backend.
func (s *Sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{sink: s}, nil }

type session struct {
	sink   *Sink
	env    Envelope
	authed bool
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.sink.User || password != s.sink.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.Password != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.env.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasSuffix(to, "@refused.test") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.env.To = append(s.env.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.env.Data = b
	s.sink.Got <- s.env
	return nil
}

func (s *session) Reset()        { s.env = Envelope{} }
func (s *session) Logout() error { return nil }
