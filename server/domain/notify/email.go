package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/secuaas/secumon/gen/db"
)

// sendEmail sends the delivery as a plain-text email through the configured SMTP server.
// A refusal with a 5xx reply (unknown recipient, rejected sender) is permanent; anything
// else, including a missing configuration, is retried.
func sendEmail(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	c := &cfg.SMTP
	if c.Host == "" {
		return outcome{Err: fmt.Errorf("email is not configured: set %s (and %s, %s) to the mail server", EnvSMTPHost, EnvSMTPPort, EnvSMTPFrom)}
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return outcome{Err: fmt.Errorf("%s=%q: %w", EnvSMTPFrom, c.From, err)}
	}
	to, err := mail.ParseAddress(d.Target)
	if err != nil {
		return outcome{Err: fmt.Errorf("recipient %q: %w", d.Target, err), Permanent: true}
	}
	msg := buildEmail(from, to, d, time.Now())

	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	if err := smtpSend(ctx, c, from.Address, to.Address, msg); err != nil {
		out := outcome{Err: err}
		if se := (*smtp.SMTPError)(nil); errors.As(err, &se) {
			out.StatusCode = se.Code
			out.Permanent = se.Code >= 500
		}
		return out
	}
	return outcome{}
}

// smtpSend runs one SMTP conversation, bounded by ctx.
func smtpSend(ctx context.Context, c *SMTPConfig, from, to string, msg []byte) error {
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	// AUTH PLAIN sends the password as is: only over TLS, or to a relay on this machine.
	if c.Username != "" && !c.StartTLS && !isLoopback(c.Host) {
		return fmt.Errorf("refusing to send SMTP credentials to %s without TLS: set %s=true", addr, EnvSMTPStartTLS)
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // unblocks a read on cancellation
	defer stop()

	var client *smtp.Client
	if c.StartTLS {
		client, err = smtp.NewClientStartTLS(conn, &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12})
		if err != nil {
			conn.Close()
			return fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	} else {
		client = smtp.NewClient(conn)
	}
	defer client.Close()
	if c.Username != "" {
		if err := client.Auth(sasl.NewPlainClient("", c.Username, c.Password)); err != nil {
			return fmt.Errorf("SMTP authentication: %w", err)
		}
	}
	if err := client.SendMail(from, []string{to}, bytes.NewReader(msg)); err != nil {
		return err
	}
	return client.Quit()
}

// buildEmail renders the message: plain UTF-8 text, quoted-printable so that long lines and
// non-ASCII characters survive any relay. The delivery id makes the Message-ID, so a resent
// copy can be recognised as the same message.
func buildEmail(from, to *mail.Address, d *db.NotificationDelivery, now time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(d.Subject)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+d.ID.String()+"@secumon>")
	header(HeaderDelivery, d.ID.String())
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(d.Body)) // in text mode it ends lines with CRLF, as SMTP wants
	_ = qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
