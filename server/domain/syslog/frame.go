package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxLengthDigits bounds the length prefix of an octet-counted frame (9 digits is ~1 GB,
// already far beyond any message worth reading).
const maxLengthDigits = 9

// errBadFrame is a stream that is neither octet-counted nor newline-framed correctly; the
// connection cannot be resynchronised and is closed.
var errBadFrame = errors.New("malformed octet-counted frame")

// readFrame reads the next message of a TCP stream, detecting the framing of RFC 6587 frame
// by frame (as rsyslog does): a frame that starts with a digit is octet-counted ("LEN SP MSG",
// §3.4.1), anything else runs up to the next LF (non-transparent framing, §3.4.2). A message
// longer than limit is truncated to limit bytes and the rest of it is read and discarded, so
// one huge message costs no more memory than a normal one. A last line without a trailing LF
// is still returned, with io.EOF on the next call.
func readFrame(br *bufio.Reader, limit int) (msg []byte, truncated bool, err error) {
	first, err := br.Peek(1)
	if err != nil {
		return nil, false, err
	}
	if first[0] >= '0' && first[0] <= '9' {
		return readOctetCounted(br, limit)
	}
	return readLine(br, limit)
}

func readOctetCounted(br *bufio.Reader, limit int) ([]byte, bool, error) {
	n := 0
	for digits := 0; ; digits++ {
		c, err := br.ReadByte()
		if err != nil {
			return nil, false, unexpectedEOF(err)
		}
		if c == ' ' && digits > 0 {
			break
		}
		if c < '0' || c > '9' || digits == maxLengthDigits {
			return nil, false, errBadFrame
		}
		n = n*10 + int(c-'0')
	}
	keep := min(n, limit)
	msg := make([]byte, keep)
	if _, err := io.ReadFull(br, msg); err != nil {
		return nil, false, unexpectedEOF(err)
	}
	if n > keep {
		if _, err := br.Discard(n - keep); err != nil {
			return nil, false, unexpectedEOF(err)
		}
	}
	return msg, n > keep, nil
}

func readLine(br *bufio.Reader, limit int) ([]byte, bool, error) {
	var msg []byte
	truncated := false
	for {
		chunk, err := br.ReadSlice('\n')
		line := chunk
		if err == nil {
			line = chunk[:len(chunk)-1] // the LF is framing, not message
		}
		if room := limit - len(msg); len(line) > room {
			line, truncated = line[:room], true
		}
		msg = append(msg, line...)
		switch {
		case err == nil:
			return bytes.TrimSuffix(msg, []byte{'\r'}), truncated, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue // a line longer than the buffer: keep reading, dropping what is past limit
		case errors.Is(err, io.EOF) && len(msg) > 0:
			return msg, truncated, nil // the sender closed after a last line without LF
		default:
			return nil, false, err
		}
	}
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", errBadFrame, io.ErrUnexpectedEOF)
	}
	return err
}
